import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateToken, type TokenStore } from '../../core/stores/token-store.js';
import { RecentRejections } from './rejections.js';
import { consoleRoutes } from './routes.js';

/** The local console: `/` on the local server (loopback only; never part of the AWS stack). */
export interface LocalConsole {
  /** The recent refusals of the webhook route the page shows. */
  readonly rejections: RecentRejections;
  /** Answers the console's paths (returns true), leaves the rest (false). */
  routes(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
  /** Tells the console the port the server listens on (until then it refuses every request). */
  listening(port: number): void;
}

/** How long the read token of an in-memory server's console lives (the store goes with the process anyway). */
const EPHEMERAL_TOKEN_SECONDS = 86_400;

/**
 * Sets up the console with the development read token, or, for a server
 * whose store is in memory (no data directory to keep one in), a token that
 * lives in that store only.
 */
export const startConsole = async (tokens: TokenStore, developmentToken: string | undefined): Promise<LocalConsole> => {
  let token = developmentToken;
  if (token === undefined) {
    const generated = generateToken();
    const now = Math.floor(Date.now() / 1000);
    await tokens.create(
      { id: generated.id, name: 'console', sources: [], createdAt: now, expiresAt: now + EPHEMERAL_TOKEN_SECONDS },
      generated.hash,
    );
    token = generated.token;
  }
  let port = -1;
  const rejections = new RecentRejections();
  const routes = consoleRoutes({ token, rejections, port: () => port });
  return { rejections, routes, listening: (p) => void (port = p) };
};
