// What the command line needs of a data directory, without the server: where it is, and the live server's
// `server.json`. Apart from local/index.ts so that a command does not load the server, the embedded store and
// the handlers just to find them.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The file a running local server leaves in its data directory, so the CLI can reach its store. */
export const SERVER_FILE = 'server.json';

/** A source as `server.json` describes it: enough for the CLI to notice it would sign differently (never a secret). */
export interface ServerSourceInfo {
  readonly name: string;
  readonly scheme: string;
  /** `env:NAME` (the variable the server read), `development` (dev-secrets.json) or `secretsManager`. */
  readonly secret: string;
}

/** What `server.json` says. */
export interface ServerInfo {
  readonly pid: number;
  readonly url: string;
  readonly dynamoEndpoint: string;
  /** Absent in files written by earlier versions. */
  readonly sources?: readonly ServerSourceInfo[];
  /** How long the server caches key documents (`WEBHOOK_SECRET_CACHE_SECONDS`), which `rotate` must wait out. Absent in earlier files. */
  readonly secretCacheSeconds?: number;
}

/** The data directory: `HOOKWARDEN_DATA_DIR`, else `.hookwarden/` in the working directory. */
export const dataDirOf = (env: NodeJS.ProcessEnv, cwd: string): string => resolve(cwd, env.HOOKWARDEN_DATA_DIR || '.hookwarden');

const isHttpUrl = (value: unknown): boolean =>
  typeof value === 'string' && URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol);

/**
 * What every server has written (a hand-edited or damaged file may not): a process id (0 or less would signal
 * a process group, always there) and the two URLs the commands use.
 */
const isServerInfo = (value: unknown): value is ServerInfo => {
  if (typeof value !== 'object' || value === null) return false;
  const { pid, url, dynamoEndpoint } = value as Record<string, unknown>;
  return Number.isSafeInteger(pid) && (pid as number) > 0 && isHttpUrl(url) && isHttpUrl(dynamoEndpoint);
};

/** Reads `server.json` of a live local server in the data directory, if any (a file that is not one is none). */
export const runningServer = (dataDir: string): ServerInfo | undefined => {
  const path = join(dataDir, SERVER_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const info: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isServerInfo(info)) return undefined;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
};
