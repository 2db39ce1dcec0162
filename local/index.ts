import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, type HookwardenConfig } from '../functions/shared/config';
import { rateLimitsDependencies } from '../functions/shared/containment';
import { environmentSecretProviders } from '../functions/shared/secrets';
import { DynamoDbDeliveryStore } from '../functions/shared/stores/dynamodb-delivery-store';
import { createTelemetry, type Telemetry } from '../functions/shared/telemetry';
import { withDevelopmentSecrets } from './dev-secrets';
import { startLocalStore, type LocalStore } from './dynamo';
import { startHttpServer, type LocalHttpServer } from './server';

/** The file a running local server leaves in its data directory, so the CLI can reach its store. */
export const SERVER_FILE = 'server.json';

/** What `server.json` says. */
export interface ServerInfo {
  readonly pid: number;
  readonly url: string;
  readonly dynamoEndpoint: string;
}

/** Options of {@link startLocal}. */
export interface StartLocalOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** @default env.PORT ?? 3000 */
  readonly port?: number;
  /** Keep the store in memory instead of `dataDir`. @default false */
  readonly inMemory?: boolean;
  /** Telemetry to report through. @default createTelemetry() */
  readonly telemetry?: Telemetry;
}

/** A running local Hookwarden. */
export interface LocalHookwarden {
  readonly url: string;
  readonly config: HookwardenConfig;
  readonly dataDir: string;
  readonly store: LocalStore;
  readonly http: LocalHttpServer;
  /** Development secrets generated for sources that had none, by source. */
  readonly generatedSecrets: ReadonlyMap<string, string>;
  close(): Promise<void>;
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

/**
 * Runs Hookwarden on one machine: validates the configuration (every problem at
 * once), fills in development secrets, starts dynalite on loopback with the
 * shared table definitions, and serves the same handlers as Lambda over HTTP.
 * @throws ConfigError for a bad configuration
 */
export const startLocal = async (options: StartLocalOptions = {}): Promise<LocalHookwarden> => {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const dataDir = dataDirOf(env, cwd);
  const loaded = loadConfig(env, cwd);
  const port = options.port ?? (env.PORT ? Number(env.PORT) : 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    const { ConfigError } = await import('../functions/shared/errors');
    throw new ConfigError([`PORT: must be a port number from 0 to 65535, got ${JSON.stringify(env.PORT)}`]);
  }
  const { config, generated } = withDevelopmentSecrets(loaded, options.inMemory ? undefined : dataDir);
  const store = await startLocalStore(options.inMemory ? {} : { dataDir: join(dataDir, 'dynamodb') });
  const telemetry = options.telemetry ?? createTelemetry();
  let http: LocalHttpServer;
  try {
    http = await startHttpServer(
      {
        config,
        telemetry,
        store: new DynamoDbDeliveryStore({ client: store.client, tableName: config.tables.deliveries }),
        secretProviders: environmentSecretProviders,
        // HOOKWARDEN_CONTROLS_REFRESH_SECONDS shortens the 15 s blocklist cache (tests, demos).
        ...rateLimitsDependencies(store.client, config, telemetry, env.HOOKWARDEN_CONTROLS_REFRESH_SECONDS ? { refreshMs: Number(env.HOOKWARDEN_CONTROLS_REFRESH_SECONDS) * 1000 } : {}),
      },
      { port },
    );
  } catch (error) {
    await store.close();
    throw error;
  }
  const infoPath = join(dataDir, SERVER_FILE);
  if (!options.inMemory) {
    const info: ServerInfo = { pid: process.pid, url: http.url, dynamoEndpoint: store.endpoint };
    writeFileSync(infoPath, JSON.stringify(info, null, 2));
  }
  return {
    url: http.url,
    config,
    dataDir,
    store,
    http,
    generatedSecrets: generated,
    close: async () => {
      if (!options.inMemory) rmSync(infoPath, { force: true });
      await http.close();
      await store.close();
    },
  };
};
