import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig, type HookwardenConfig } from '../core/config/index.js';
import { positiveInt, Problems, secretCacheSecondsOf } from '../core/config/rules.js';
import { ConfigError } from '../core/errors.js';
import { rateLimitsDependencies } from '../core/wiring.js';
import { environmentSecretProviders, type SecretProviderFactory } from '../core/secrets/index.js';
import { KEY_FILES_DIR, readKeyFile } from '../core/secrets/key-files.js';
import { cachedKeyDocumentProviders } from '../core/secrets/secrets-manager.js';
import { DynamoDbDeliveryStore } from '../core/stores/dynamodb-delivery-store.js';
import { createTelemetry, type Telemetry } from '../core/telemetry.js';
import { DEV_SECRETS_FILE, withDevelopmentSecrets } from './dev-secrets.js';
import { DEV_TOKEN_FILE, ensureDevelopmentToken } from './dev-token.js';
import { LocalNotifier } from './notifier.js';
import { readerSettings } from '../core/reader/settings.js';
import { DynamoDbTokenStore } from '../core/stores/token-store.js';
import { TOKENS_TABLE, tableName } from '../core/stores/tables.js';
import { startLocalStore, type LocalStore } from './dynamo.js';
import { startConsole, type LocalConsole } from './console/index.js';
import { FETCH_BLOCKED_PORTS, fetchBlockedPortReason } from './fetch-ports.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, startHttpServer, type LocalHttpServer } from './server.js';
import { dataDirOf, SERVER_FILE, type ServerInfo } from './server-info.js';

export { dataDirOf, runningServer, SERVER_FILE, type ServerInfo, type ServerSourceInfo } from './server-info.js';

/** How long a local stream waits before sending a delivery (`HOOKWARDEN_STREAM_SETTLE_MS` overrides). */
export const LOCAL_SETTLE_MS = 250;

/**
 * Streams a token may open locally (`HOOKWARDEN_STREAM_RATE_LIMIT` overrides): the AWS default (30 per
 * 14 minutes) bounds the Lambda invocations one token holds; here a stream is a socket, and a page
 * reloaded while it is being built opens one each time.
 */
export const LOCAL_STREAM_RATE_LIMIT = '300/14m';

/** The directory of the embedded store inside the data directory. */
export const STORE_DIR = 'dynamodb';

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

/** What Hookwarden keeps in a data directory: {@link restrictDataDir} closes these and leaves anything else alone. */
const DATA_DIR_ENTRIES: ReadonlySet<string> = new Set([STORE_DIR, KEY_FILES_DIR, SERVER_FILE, DEV_TOKEN_FILE, DEV_SECRETS_FILE]);

/**
 * Makes the data directory private to its owner, at every start: it holds
 * delivery bodies and development secrets. The directory and Hookwarden's
 * own entries in it (the store, the key files, the development secrets and
 * token, `server.json`) become 0700 for directories and 0600 for files,
 * whatever an earlier version, a copy or the umask left behind; anything else
 * is left as it is (`HOOKWARDEN_DATA_DIR=.` must not turn a project's scripts
 * into 0600 files). Called again once the store has opened its files; the
 * files it creates after that sit inside the 0700 directory.
 */
export const restrictDataDir = (dataDir: string): void => {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const walk = (dir: string, only?: ReadonlySet<string>): void => {
    chmodSync(dir, 0o700);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (only && !only.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) chmodSync(path, 0o600);
    }
  };
  walk(dataDir, DATA_DIR_ENTRIES);
};

/**
 * Why `dataDir` cannot be made a data directory, checked before anything is written: it, or the nearest
 * part of its path that exists, is a file. Found here, it is one line among the configuration's problems
 * instead of a stack trace from `mkdir`.
 */
const dataDirProblem = (dataDir: string): string | undefined => {
  let existing = dataDir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!existsSync(existing) || statSync(existing).isDirectory()) return undefined;
  return existing === dataDir ? `${dataDir} is not a directory` : `${existing} is not a directory, so ${dataDir} cannot be made`;
};

/** A variable's whole number, written in decimal digits (spaces around them allowed); `NaN` for anything else. */
const decimal = (raw: string): number => (/^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN);

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
  // Every problem at once: the configuration's, the reader's settings and the local server's own variables.
  const problems = new Problems();
  const loaded = problems.collect(() => loadConfig(env, cwd));
  // Decimal digits only, as every other number Hookwarden reads: Number() took 0x1F90 for 8080, 1e3 for 1000 and " " for 0.
  const port = options.port ?? (env.PORT ? decimal(env.PORT) : 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    problems.add('PORT', `must be a port number from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  else if (FETCH_BLOCKED_PORTS.has(port))
    problems.add(
      'PORT',
      `${fetchBlockedPortReason(port)}: hookwarden send, replay, tail and listen could not reach the server, nor a browser its console; pick another`,
    );
  const dataDirUnusable = options.inMemory ? undefined : dataDirProblem(dataDir);
  if (dataDirUnusable) problems.add('HOOKWARDEN_DATA_DIR', dataDirUnusable);
  const timeoutSeconds = env.HOOKWARDEN_REQUEST_TIMEOUT_SECONDS
    ? decimal(env.HOOKWARDEN_REQUEST_TIMEOUT_SECONDS)
    : DEFAULT_REQUEST_TIMEOUT_MS / 1000;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) {
    problems.add(
      'HOOKWARDEN_REQUEST_TIMEOUT_SECONDS',
      `must be a whole number of seconds from 1 to 3600, got ${JSON.stringify(env.HOOKWARDEN_REQUEST_TIMEOUT_SECONDS)}`,
    );
  }
  // Unchecked, a value that is not a number froze the blocklist at its first read, and a negative one made every delivery 503.
  const refreshSeconds = positiveInt(problems, 'HOOKWARDEN_CONTROLS_REFRESH_SECONDS', env.HOOKWARDEN_CONTROLS_REFRESH_SECONDS, 15, 3600);
  // The key documents of the data directory are read through the functions' cache, for as long (WEBHOOK_SECRET_CACHE_SECONDS shortens it in tests and demos).
  const cacheSeconds = secretCacheSecondsOf(problems, env);
  // Locally the writer and the streams share one clock and dynalite indexes as it writes: a short settle suffices.
  const settings = problems.collect(() =>
    readerSettings({ HOOKWARDEN_STREAM_SETTLE_MS: String(LOCAL_SETTLE_MS), HOOKWARDEN_STREAM_RATE_LIMIT: LOCAL_STREAM_RATE_LIMIT, ...env }),
  );
  // loadConfig names a bad WEBHOOK_SECRET_CACHE_SECONDS too when the sources come from a file: once is enough.
  if (problems.items.length > 0 || !loaded || !settings) throw new ConfigError([...new Set(problems.items)]);
  if (!options.inMemory) restrictDataDir(dataDir);
  const { config, generated } = withDevelopmentSecrets(loaded, options.inMemory ? undefined : dataDir, cacheSeconds);
  const keyFiles = cachedKeyDocumentProviders(readKeyFile);
  const secretProviders: SecretProviderFactory = (source) =>
    source.kind === 'keyFile' ? keyFiles(source) : environmentSecretProviders(source);
  const store = await startLocalStore(options.inMemory ? {} : { dataDir: join(dataDir, STORE_DIR) });
  // The store has just made its directory and files with the umask's modes (0755, 0644 in a new data directory): close them too.
  if (!options.inMemory) restrictDataDir(dataDir);
  const telemetry = options.telemetry ?? createTelemetry();
  const tokens = new DynamoDbTokenStore({ client: store.client, tableName: tableName(TOKENS_TABLE, env) });
  // The command-line consumers and the console read the local server with this token, no setup needed.
  const devToken = options.inMemory ? undefined : await ensureDevelopmentToken(dataDir, tokens);
  const localConsole: LocalConsole = await startConsole(tokens, devToken);
  // Loaded here, not at the top: the CLI imports this module and never serves the API.
  const [{ createEventsHandler }, { createDeliveriesHandler }, { readerDependencies }] = await Promise.all([
    import('../core/reader/events.js'),
    import('../core/reader/routes.js'),
    import('../core/reader/wiring.js'),
  ]);
  const notifier = new LocalNotifier();
  const reader = readerDependencies({ config, telemetry, client: store.client, env, settings, notifier });
  let http: LocalHttpServer;
  try {
    http = await startHttpServer(
      {
        config,
        telemetry,
        store: new DynamoDbDeliveryStore({ client: store.client, tableName: config.tables.deliveries }),
        secretProviders,
        // HOOKWARDEN_CONTROLS_REFRESH_SECONDS shortens the 15 s blocklist cache (tests, demos).
        ...rateLimitsDependencies(store.client, config, telemetry, { refreshMs: refreshSeconds * 1000 }),
      },
      {
        port,
        requestTimeoutMs: timeoutSeconds * 1000,
        reader: { deliveries: createDeliveriesHandler(reader), events: createEventsHandler(reader) },
        onAccepted: () => notifier.notify(),
        onWebhookAnswer: (answer) => localConsole.rejections.recordAnswer(answer),
        localRoutes: (req, res, url) => localConsole.routes(req, res, url),
      },
    );
  } catch (error) {
    await store.close();
    throw error;
  }
  localConsole.listening(Number(new URL(http.url).port));
  const infoPath = join(dataDir, SERVER_FILE);
  if (!options.inMemory) {
    const sources = [...config.sources.values()].map((source) => ({
      name: source.name,
      scheme: source.schemeName,
      secret: generated.has(source.name)
        ? 'development'
        : source.secret?.kind === 'env'
          ? `env:${source.secret.variable}`
          : 'secretsManager',
    }));
    const info: ServerInfo = { pid: process.pid, url: http.url, dynamoEndpoint: store.endpoint, sources, secretCacheSeconds: cacheSeconds };
    writeFileSync(infoPath, JSON.stringify(info, null, 2), { mode: 0o600 });
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
