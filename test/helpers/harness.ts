import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadConfig, type HookwardenConfig } from '../../core/config/index.js';
import type { HttpHandler, PipelineDependencies } from '../../core/pipeline.js';
import { environmentSecretProviders } from '../../core/secrets/index.js';
import { createDynamoDbClient, type DynamoDbClientOptions } from '../../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { TABLES } from '../../core/stores/tables.js';
import { createTelemetry } from '../../core/telemetry.js';
import { ControlsCache } from '../../core/stores/controls-cache.js';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { DynamoDbRateLimiter } from '../../core/stores/dynamodb-rate-limiter.js';
import { createTables, startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { startHttpServer, type LocalHttpServer } from '../../local/server.js';
import { stallingStore, type StallingStore } from './stalling-store.js';

/** One DynamoDB call: the command and the table it names. */
export interface DynamoCall {
  readonly command: string;
  readonly table: string;
}

/** Counts every DynamoDB call a client makes, with the table each names. */
export const countCalls = (
  client: DynamoDBClient,
): { readonly count: () => number; readonly names: string[]; readonly calls: DynamoCall[] } => {
  const names: string[] = [];
  const calls: DynamoCall[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(String(context.commandName));
      calls.push({
        command: String(context.commandName).replace(/Command$/, ''),
        table: String((args.input as { TableName?: string }).TableName ?? ''),
      });
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return { count: () => names.length, names, calls };
};

/** An empty directory, so no stray hookwarden.config.json is picked up (removed with the run's temporary parent). */
export const emptyDir = (): string => mkdtempSync(join(tmpdir(), 'hookwarden-test-'));

/** Everything a real-HTTP test needs: dynalite, the handlers on a loopback port, a counted client. */
export interface Harness {
  readonly url: string;
  readonly config: HookwardenConfig;
  readonly deps: PipelineDependencies;
  readonly http: LocalHttpServer;
  readonly client: DynamoDBClient;
  readonly store: DynamoDbDeliveryStore;
  /** With `stallable`: the HTTP hop between the client and dynalite, which can hang chosen requests. */
  readonly stalls?: StallingStore;
  /** DynamoDB calls made by the handlers so far. */
  dynamoCalls(): number;
  /** Every DynamoDB call made so far, in order (slice it around a request). */
  readonly calls: readonly DynamoCall[];
  /** Stops dynalite (the handlers keep running). */
  stopStore(): Promise<void>;
  /** Starts dynalite again on the same port, tables re-created (in memory: empty). */
  startStore(): Promise<void>;
  post(path: string, body: string | Buffer, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** Starts dynalite and the local HTTP server for a configuration given as environment variables. */
export const startHarness = async (
  env: Record<string, string>,
  options: {
    now?: () => number;
    webhookHandler?: (deps: PipelineDependencies) => HttpHandler;
    containment?: boolean;
    requestTimeoutMs?: number;
    /** The client reaches dynalite through a {@link StallingStore} (`stalls`). @default false */
    stallable?: boolean;
    /** More options of the harness's one client. @default 2 attempts */
    client?: DynamoDbClientOptions;
    /** The webhook request's budget (PipelineDependencies.requestBudgetMs). @default WEBHOOK_DEADLINE.budgetMs */
    requestBudgetMs?: number;
    /** How old the blocklist may get before a request reads it again (ControlsCache refreshMs). @default 15000 */
    controlsRefreshMs?: number;
  } = {},
): Promise<Harness> => {
  const config = loadConfig({ ...env }, emptyDir());
  let local: LocalStore | undefined = await startLocalStore();
  const port = Number(new URL(local.endpoint).port);
  const stalls = options.stallable ? await stallingStore(local.endpoint) : undefined;
  const client = createDynamoDbClient({ maxAttempts: 2, ...options.client, endpoint: stalls?.endpoint ?? local.endpoint, region: 'local' });
  const calls = countCalls(client);
  const store = new DynamoDbDeliveryStore({ client, tableName: config.tables.deliveries });
  const telemetry = createTelemetry();
  const deps: PipelineDependencies = {
    config,
    store,
    telemetry,
    secretProviders: environmentSecretProviders,
    ...(options.now ? { now: options.now } : {}),
    ...(options.requestBudgetMs === undefined ? {} : { requestBudgetMs: options.requestBudgetMs }),
    ...(options.containment
      ? {
          rateLimiter: new DynamoDbRateLimiter({ client, tableName: config.tables.rateLimits }),
          controls: new ControlsCache({
            store: new DynamoDbControlsStore({ client, tableName: config.tables.rateLimits }),
            ...(options.now ? { now: options.now } : {}),
            ...(options.controlsRefreshMs === undefined ? {} : { refreshMs: options.controlsRefreshMs }),
          }),
        }
      : {}),
  };
  const http = await startHttpServer(deps, {
    port: 0,
    ...(options.webhookHandler ? { webhookHandler: options.webhookHandler(deps) } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  return {
    url: http.url,
    config,
    deps,
    http,
    client,
    store,
    ...(stalls ? { stalls } : {}),
    dynamoCalls: () => calls.count(),
    calls: calls.calls,
    stopStore: async () => {
      await local?.close();
      local = undefined;
    },
    startStore: async () => {
      local = await startLocalStore({ port });
      await createTables(local.client, TABLES);
    },
    post: (path, body, headers = {}) =>
      fetch(`${http.url}${path}`, {
        method: 'POST',
        body: typeof body === 'string' ? body : new Uint8Array(body),
        headers: { 'content-type': 'application/json', ...headers },
      }),
    close: async () => {
      await http.close();
      client.destroy();
      await stalls?.close();
      await local?.close();
    },
  };
};

/** A response body as the tests read it. */
export interface JsonBody {
  readonly error: { readonly code: string; readonly message: string; readonly requestId: string };
  readonly [key: string]: unknown;
}

/** Reads a JSON response body. */
export const readJson = async (res: Response): Promise<JsonBody> => (await res.json()) as JsonBody;
