import sparticuz from '@sparticuz/chromium';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

// Our own flags, never the package's `sparticuz.args`: those include --disable-web-security, which turns CORS off.
// Without the background-networking flags Chromium's own connections are refused on a closed network.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--no-zygote',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The package's Chromium, decompressed into the run's temporary directory (test/setup/log-scan.ts) by one test file
 * while any other waits: the package decompresses into the path it then reports, and takes a path that exists as done,
 * so a second file starting meanwhile would launch a half-written binary.
 */
const extractedChromium = async (): Promise<string> => {
  const ready = join(tmpdir(), 'chromium.ready');
  if (!existsSync(ready)) {
    try {
      mkdirSync(join(tmpdir(), 'chromium.extracting'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      for (const deadline = Date.now() + 120_000; !existsSync(ready);) {
        if (Date.now() > deadline) throw new Error(`Chromium: another test file's decompression did not finish within 120 s (${ready})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return sparticuz.executablePath();
    }
    const path = await sparticuz.executablePath();
    writeFileSync(ready, path);
    return path;
  }
  return sparticuz.executablePath();
};

/**
 * Launches headless Chromium from the `@sparticuz/chromium` npm package (the
 * binary ships inside it, so `npm ci` is all a machine needs), failing (never
 * skipping) when it cannot: CORS is a browser behaviour, so without a browser
 * nothing is proven.
 */
export const launchChromium = async (): Promise<Browser> => {
  const executablePath = await extractedChromium();
  try {
    return await chromium.launch({ executablePath, args: FLAGS });
  } catch (error) {
    throw new Error(`Chromium (${executablePath}, from @sparticuz/chromium) failed to launch headless: ${String(error)}`, { cause: error });
  }
};

/** A tiny page server: its origin is what the browser sends as `Origin`. */
export interface PageServer {
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves one small HTML page on 127.0.0.1 at a free port. */
export const startPageServer = async (): Promise<PageServer> => {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><title>cors probe</title><p>hookwarden cors probe</p>');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** A page opened at an origin, in its own browser context (so no preflight cache is shared between tests). */
export interface OriginPage {
  readonly page: Page;
  /** Errors the browser logged to the console, CORS refusals among them. */
  readonly consoleErrors: string[];
  close(): Promise<void>;
}

/** Opens a fresh context and page at `origin`. */
export const openPage = async (browser: Browser, origin: string): Promise<OriginPage> => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(origin);
  return { page, consoleErrors, close: () => context.close() };
};

/** What the page's `fetch` could see: a readable response, or the error the browser raised. */
export type BrowserOutcome =
  | { readonly ok: true; readonly status: number; readonly body: string }
  | { readonly ok: false; readonly name: string; readonly message: string };

/** Runs `fetch(url, init)` inside the page, as the page's own script would. */
export const browserFetch = (
  page: Page,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<BrowserOutcome> =>
  page.evaluate(
    async ({ target, options }): Promise<BrowserOutcome> => {
      try {
        const res = await fetch(target, options);
        return { ok: true, status: res.status, body: await res.text() };
      } catch (error) {
        const e = error as Error;
        return { ok: false, name: e.name, message: e.message };
      }
    },
    { target: url, options: init },
  );

/** A request as the Hookwarden server received and answered it. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly origin: string | undefined;
  readonly requestMethod: string | undefined;
  readonly requestHeaders: string | undefined;
  status?: number;
}

/** Observes (never alters) what a server receives, so a test can tell a CORS refusal from a network failure. */
export interface RequestLog {
  /** Every request since the last call, once each has been answered. */
  take(): Promise<ReceivedRequest[]>;
  stop(): void;
}

/** Starts observing `server`'s requests. */
export const recordRequests = (server: Server): RequestLog => {
  let received: ReceivedRequest[] = [];
  let pending = 0;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const entry: ReceivedRequest = {
      method: req.method ?? '',
      path: new URL(req.url ?? '/', 'http://localhost').pathname,
      origin: req.headers.origin,
      requestMethod: req.headers['access-control-request-method'] as string | undefined,
      requestHeaders: req.headers['access-control-request-headers'] as string | undefined,
    };
    received.push(entry);
    pending += 1;
    res.once('close', () => {
      entry.status = res.statusCode;
      pending -= 1;
    });
  };
  server.on('request', onRequest);
  return {
    take: async () => {
      // The browser can report before Node has run the response's 'close' callback.
      for (let i = 0; pending > 0 && i < 100; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      const taken = received;
      received = [];
      return taken;
    },
    stop: () => server.off('request', onRequest),
  };
};

/** Header list values (`Vary`, `Access-Control-Allow-*`) as lower-case tokens. */
export const tokens = (value: string | null): string[] =>
  (value ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0);
