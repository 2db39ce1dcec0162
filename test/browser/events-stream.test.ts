import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { launchChromium, openPage, recordRequests, startPageServer, type OriginPage, type PageServer, type RequestLog } from './helpers.js';

/** What the page's script could read of the stream: its first delivery event, or the error the browser raised. */
type StreamOutcome =
  | { readonly ok: true; readonly status: number; readonly contentType: string | null; readonly firstEvent: string }
  | { readonly ok: false; readonly name: string; readonly message: string };

/** Reads `GET /events` with fetch (EventSource cannot send Authorization) until the first delivery event. */
const readFirstEvent = (page: OriginPage['page'], url: string, token: string): Promise<StreamOutcome> =>
  page.evaluate(
    async ({ target, bearer }): Promise<StreamOutcome> => {
      try {
        const res = await fetch(target, { headers: { Authorization: `Bearer ${bearer}` } });
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        const decoder = new TextDecoder();
        let text = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
          const block = text.split('\n\n').find((b) => b.startsWith('event: delivery'));
          if (block) {
            await reader.cancel();
            return { ok: true, status: res.status, contentType: res.headers.get('content-type'), firstEvent: block };
          }
        }
        return { ok: true, status: res.status, contentType: res.headers.get('content-type'), firstEvent: '' };
      } catch (error) {
        const e = error as Error;
        return { ok: false, name: e.name, message: e.message };
      }
    },
    { target: url, bearer: token },
  );

describe('the event stream across origins in headless Chromium', () => {
  let browser: Browser;
  let allowed: PageServer;
  let other: PageServer;
  let h: ReaderHarness;
  let log: RequestLog;
  let token: string;

  beforeAll(async () => {
    browser = await launchChromium();
    allowed = await startPageServer();
    other = await startPageServer();
    h = await startReaderHarness({ env: { CORS_ORIGINS: allowed.origin } });
    token = (await h.token()).token;
    log = recordRequests(h.http.server);
  });
  afterAll(async () => {
    log?.stop();
    await browser?.close();
    await allowed?.close();
    await other?.close();
    await h?.close();
  });

  it('a page on an allowed origin reads the stream with fetch and an Authorization header', async () => {
    const page = await openPage(browser, allowed.origin);
    try {
      const reading = readFirstEvent(page.page, `${h.url}/events`, token);
      let settled = false;
      void reading.finally(() => (settled = true));
      // Deliveries stored after the stream opened are sent: keep delivering until the page has read one.
      const sent: string[] = [];
      for (let i = 0; i < 40 && !settled; i++) {
        sent.push((await h.deliver('default')).id);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const outcome = await reading;
      expect(outcome).toMatchObject({ ok: true, status: 200, contentType: 'text/event-stream' });
      const event = outcome.ok ? outcome.firstEvent : '';
      const data = JSON.parse(/\ndata: (.*)/.exec(event)?.[1] ?? '{}') as { id?: string };
      expect(sent).toContain(data.id);
      const requests = await log.take();
      // The preflight (Authorization is not a simple header) was allowed, then the stream answered.
      expect(requests).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ method: 'OPTIONS', path: '/events', origin: allowed.origin, status: 204 }),
          expect.objectContaining({ method: 'GET', path: '/events', origin: allowed.origin, status: 200 }),
        ]),
      );
    } finally {
      await page.close();
    }
  });

  it('a page on another origin cannot: the preflight is refused and no stream is ever opened for it', async () => {
    const page = await openPage(browser, other.origin);
    try {
      const outcome = await readFirstEvent(page.page, `${h.url}/events`, token);
      expect(outcome).toMatchObject({ ok: false, name: 'TypeError' });
      const requests = (await log.take()).filter((r) => r.path === '/events');
      expect(requests.length).toBeGreaterThan(0);
      for (const r of requests) expect(r.status, `${r.method} ${r.path}`).toBe(403);
      expect(requests.some((r) => r.method === 'GET' && r.status === 200)).toBe(false);
    } finally {
      await page.close();
    }
  });
});
