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

/** Reads `server.json` of a live local server in the data directory, if any. */
export const runningServer = (dataDir: string): ServerInfo | undefined => {
  const path = join(dataDir, SERVER_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as ServerInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
};
