import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateToken, hashToken, tokenLive, TOKEN_FORMAT, type TokenStore } from '../core/stores/token-store.js';

/** The file in the data directory that keeps the development read token (mode 0600). */
export const DEV_TOKEN_FILE = 'dev-token';
/** The development token's name in `hookwarden token list`. */
export const DEV_TOKEN_NAME = 'development';
/** How long a development token lives before the next start replaces it. */
const DEV_TOKEN_TTL_SECONDS = 366 * 86_400;

/** Where the development token is kept. */
export const developmentTokenPath = (dataDir: string): string => join(dataDir, DEV_TOKEN_FILE);

/** The saved development token, if the file holds a well-formed one. */
export const readDevelopmentToken = (dataDir: string): string | undefined => {
  const path = developmentTokenPath(dataDir);
  if (!existsSync(path)) return undefined;
  const token = readFileSync(path, 'utf8').trim();
  return TOKEN_FORMAT.test(token) ? token : undefined;
};

/**
 * The local development read token (every source, a year): the saved one while
 * the store still knows it and it is live, else a new one, stored by hash and
 * saved in `<dataDir>/dev-token` with mode 0600, so the command-line consumers
 * work against `npm start` with no setup.
 */
export const ensureDevelopmentToken = async (dataDir: string, store: TokenStore, nowMs: number = Date.now()): Promise<string> => {
  const nowSeconds = Math.floor(nowMs / 1000);
  const saved = readDevelopmentToken(dataDir);
  if (saved) {
    const { id, hash } = hashToken(saved);
    const record = await store.find(id, hash);
    if (record && tokenLive(record, nowSeconds + 86_400)) return saved;
  }
  const { token, id, hash } = generateToken();
  await store.create({ id, name: DEV_TOKEN_NAME, sources: [], createdAt: nowSeconds, expiresAt: nowSeconds + DEV_TOKEN_TTL_SECONDS }, hash);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(developmentTokenPath(dataDir), `${token}\n`, { mode: 0o600 });
  return token;
};
