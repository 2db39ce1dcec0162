import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from '../../core/middleware/security-headers/index.js';
import { TOKEN_FORMAT } from '../../core/stores/token-store.js';
import { ownError } from '../own-errors.js';
import { sendResult } from '../http-adapter.js';
import { CONSOLE_CSS, CONSOLE_JS, consoleHtml } from './page.js';
import type { RecentRejections } from './rejections.js';

/**
 * The page's policy: its own script, style and API only; no inline script, no
 * frames, no forms, no plugins, no base tag tricks.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Options of {@link consoleRoutes}. */
export interface ConsoleOptions {
  /** The read token the page uses for `GET /deliveries` and `GET /events`. */
  readonly token: string;
  readonly rejections: RecentRejections;
  /** The port the server listens on, once it does: only `127.0.0.1:<port>`, `localhost:<port>` and `[::1]:<port>` are served. */
  readonly port: () => number;
}

const LOOPBACK_PEER = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/** The paths the console answers. */
const PATHS = new Set(['/', '/console/app.js', '/console/app.css', '/console/rejections']);

/**
 * The local console's routes, for the local server only (never part of the
 * AWS stack). Answers `/` (the page), its script and style, and
 * `/console/rejections?after=<seq>` (the recent rejections, JSON), to
 * loopback peers that name the server by a loopback `Host` (a DNS-rebinding
 * page names its own host and is refused), with a strict CSP. The data route
 * also refuses a cross-site `Origin` or `Sec-Fetch-Site`.
 * @returns a request handler that answers and returns true for its paths, false otherwise
 */
export const consoleRoutes = (options: ConsoleOptions) => {
  if (!TOKEN_FORMAT.test(options.token)) throw new Error('the console needs a well-formed read token');
  const page = consoleHtml(options.token);
  const hosts = (): Set<string> => {
    const port = options.port();
    return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  };

  return (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    if (!PATHS.has(url.pathname)) return false;
    const requestId = randomUUID();
    const refuse = (status: number, code: string, message: string, headers: Record<string, string> = {}): true => {
      sendResult(res, ownError(status, code, message, requestId, headers));
      return true;
    };
    const host = (req.headers.host ?? '').toLowerCase();
    if (!LOOPBACK_PEER.test(req.socket.remoteAddress ?? '') || !hosts().has(host)) {
      return refuse(
        403,
        'host_denied',
        'The console answers only on this machine, at http://127.0.0.1:<port>/ or http://localhost:<port>/.',
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return refuse(405, 'method_not_allowed', 'Only GET is accepted here.', { Allow: 'GET, HEAD' });
    const headers = {
      ...SECURITY_HEADERS,
      'Content-Security-Policy': CONSOLE_CSP,
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cross-Origin-Opener-Policy': 'same-origin',
    };
    const send = (type: string, body: string): true => {
      sendResult(res, { statusCode: 200, headers: { ...headers, 'Content-Type': type }, body });
      return true;
    };
    switch (url.pathname) {
      case '/':
        return send('text/html; charset=utf-8', page);
      case '/console/app.js':
        return send('text/javascript; charset=utf-8', CONSOLE_JS);
      case '/console/app.css':
        return send('text/css; charset=utf-8', CONSOLE_CSS);
      default: {
        const origin = req.headers.origin;
        const site = req.headers['sec-fetch-site'];
        if ((origin !== undefined && origin !== `http://${host}`) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
          return refuse(403, 'origin_denied', 'Only the console page may read this.');
        }
        const after = url.searchParams.get('after') ?? '0';
        if (!/^\d{1,15}$/.test(after)) return refuse(400, 'after_invalid', 'after must be a whole number.');
        return send('application/json; charset=utf-8', JSON.stringify({ rejections: options.rejections.after(Number(after)) }));
      }
    }
  };
};
