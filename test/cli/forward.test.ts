import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet } from '../../cli/consumers/api.js';
import { CommandFailed } from '../../cli/context.js';
import { forwardDelivery, notFollowed, type FetchedDelivery } from '../../cli/consumers/forward.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

describe('forwardDelivery over real HTTP', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const delivery = (headers: Record<string, string>): FetchedDelivery => ({
    source: 'default',
    id: 'msg_1',
    receivedAt: '2026-11-30T00:00:00.000Z',
    eventType: null,
    headers,
    body: Buffer.from('{"n":1}'),
  });

  // A kept header read from the API is a JSON string: on AWS it can hold any character, where a
  // header on the wire is bytes. fetch refuses a character above U+00FF, which failed the whole forward.
  it('forwards a delivery whose kept header holds a character above U+00FF, as its UTF-8 bytes', async () => {
    const before = receiver.received.length;
    const result = await forwardDelivery(delivery({ 'user-agent': 'bot/1 \u2603', 'content-type': 'application/json' }), receiver.url);
    expect(result.status).toBe(200);
    const [got] = (await receiver.waitFor(before + 1)).slice(before);
    expect(got?.body.toString()).toBe('{"n":1}');
    expect(Buffer.from(got?.headers['user-agent'] ?? '', 'latin1').toString('utf8')).toBe('bot/1 \u2603');
    expect(got?.headers['content-type']).toBe('application/json');
  });
});

describe('apiGet against an API that takes the connection and never answers', () => {
  let silent: Server;
  let url = '';
  beforeAll(async () => {
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  // listen reads each delivery with Ctrl+C's signal: that signal replaced the timeout, so one silent
  // answer stopped every forward after it for good.
  it('gives up after its timeout even with a caller signal that never aborts (cannot reach, not a hang)', async () => {
    const target = { url, token: 'hwk_test', where: 'the local server' };
    const read = apiGet(target, '/deliveries/default/msg_1', { signal: new AbortController().signal, timeoutMs: 200 });
    const hung = new Promise((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3000));
    await expect(Promise.race([read, hung])).rejects.toThrow(/cannot reach the local server/);
  });
});

/** Marker credentials with no secret-like shape: only where they sit says what they are. */
const TOKEN = 'tok-orange-lantern-river-7';
const PASSWORD = 'pw-horse-battery-staple-42';
const HEADER_SECRET = 'hdr-velvet-compass-ember-93';
const BODY_SECRET = 'body-quiet-meadow-falcon-58';
/** A token in the URL's path (Slack's incoming webhooks: `/services/T…/B…/<token>`), no secret-like shape: upper case only. */
const PATH_TOKEN = 'QWERTYUIOPASDFGHJKLZXCVB';
/** A credential in a query parameter named like nothing in particular (`?k=`). */
const QUERY_VALUE = 'qv-amber-harbor-willow-64';

/** Every 12-character part of `value`. */
const parts = (value: string): string[] => Array.from({ length: value.length - 11 }, (_, i) => value.slice(i, i + 12));
const expectNoPart = (text: string): void => {
  for (const marker of [TOKEN, PASSWORD, HEADER_SECRET, BODY_SECRET, PATH_TOKEN, QUERY_VALUE])
    for (const part of parts(marker)) expect(text).not.toContain(part);
};

/**
 * A forward that fails, or that a receiver answers by echoing the request, says what happened without the URL's
 * credentials (`user:password@`, `?token=`), the delivery's kept headers or its body: the message goes to a
 * terminal or, with listen, to a log line per delivery.
 */
describe('forwardDelivery leaks nothing of the URL, the kept headers or the body', () => {
  const marked: FetchedDelivery = {
    source: 'default',
    id: 'msg_leak',
    receivedAt: '2026-11-30T00:00:00.000Z',
    eventType: null,
    headers: { 'x-receiver-key': HEADER_SECRET, 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ note: BODY_SECRET })),
  };
  let closedPort = 0;
  let echo: Server;
  let echoUrl = '';
  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    // A receiver that answers with what it got: the body as its body, headers and URL in its status text and Location.
    echo = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const redirect = req.url?.includes('redirect') === true;
        // A trailing-slash redirect, relative as many frameworks send it: the request's own path and query again.
        const slash = req.url?.includes('slash') === true;
        const [path, query] = (req.url ?? '').split('?');
        res.statusMessage = `echo ${String(req.headers['x-receiver-key'])} ${body.toString()} ${req.url ?? ''}`;
        if (redirect) res.setHeader('location', `https://login.example.com/?next=${encodeURIComponent(req.url ?? '')}&session=${TOKEN}`);
        if (slash) res.setHeader('location', `${path ?? ''}/${query === undefined ? '' : `?${query}`}`);
        res.writeHead(redirect ? 302 : slash ? 308 : 500).end(body);
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => echo?.close(resolve));
  });

  const failure = async (to: string): Promise<string> => {
    const error = await forwardDelivery(marked, to).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(CommandFailed);
    return (error as Error).message;
  };

  it.each([
    ['a closed port (ECONNREFUSED)', () => `http://127.0.0.1:${closedPort}/in?token=${TOKEN}`],
    ['an invalid URL', () => `http://127.0.0.1:${closedPort}/in put?token=${TOKEN}&x=%zz`.replace('http://', 'http://exa mple/')],
    ['a URL with user:password@', () => `http://deploy:${PASSWORD}@127.0.0.1:${closedPort}/in`],
    ['a TLS error (https to a plain HTTP port)', () => `${echoUrl.replace('http:', 'https:')}/in?access_token=${TOKEN}`],
    [
      'a closed port, a token in the path and in ?k=',
      () => `http://127.0.0.1:${closedPort}/services/T000/B000/${PATH_TOKEN}?k=${QUERY_VALUE}`,
    ],
    [
      'a TLS error, a token in the path and in ?k=',
      () => `${echoUrl.replace('http:', 'https:')}/services/T000/B000/${PATH_TOKEN}?k=${QUERY_VALUE}`,
    ],
  ])('%s: cannot reach, with no part of a marker', async (_name, to) => {
    const message = await failure(to());
    expect(message).toMatch(/^cannot reach /);
    expectNoPart(message);
  });

  // The operator must still recognise the receiver: its host, port and short path segments stay.
  it('a closed port: the URL shown with its host and route, its path token and every query value [redacted]', async () => {
    const message = await failure(`http://127.0.0.1:${closedPort}/services/T000/B000/${PATH_TOKEN}?k=${QUERY_VALUE}&v=2`);
    expect(message).toMatch(
      new RegExp(
        `^cannot reach http://127\\.0\\.0\\.1:${closedPort}/services/T000/B000/\\[redacted\\]\\?k=\\[redacted\\]&v=\\[redacted\\]: ECONNREFUSED`,
      ),
    );
  });

  it('a 500 echoing the request: the status kept, its text without any part of a marker', async () => {
    const result = await forwardDelivery(marked, `${echoUrl}/in?token=${TOKEN}`);
    expect(result.status).toBe(500);
    expect(result.statusText).toMatch(/^echo /);
    expectNoPart(JSON.stringify(result));
  });

  it('a 500 echoing a request whose URL holds a token in its path and in ?k=: its text without any part of them', async () => {
    const result = await forwardDelivery(marked, `${echoUrl}/services/T000/B000/${PATH_TOKEN}?k=${QUERY_VALUE}`);
    expect(result.status).toBe(500);
    expect(result.statusText).toMatch(/^echo .*\/services\/T000\/B000\//);
    expectNoPart(JSON.stringify(result));
  });

  it('a relative trailing-slash redirect back to the token path: Location shown with its route, without the token', async () => {
    const result = await forwardDelivery(marked, `${echoUrl}/slash/T000/B000/${PATH_TOKEN}?k=${QUERY_VALUE}`);
    expect(result.status).toBe(308);
    expect(result.location).toBe('/slash/T000/B000/[redacted]/?k=[redacted]');
    expectNoPart(JSON.stringify(result) + notFollowed(result));
  });

  it('a redirect to a URL carrying the request and a session token: Location shown without them', async () => {
    const result = await forwardDelivery(marked, `${echoUrl}/redirect?token=${TOKEN}`);
    expect(result.status).toBe(302);
    expect(result.location).toMatch(/^https:\/\/login\.example\.com\//);
    expectNoPart(JSON.stringify(result) + notFollowed(result));
  });
});
