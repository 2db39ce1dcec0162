import {
  BatchWriteItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { loadConfig, type HookwardenConfig } from '../../core/config/index.js';
import { createWebhookHandler, type PipelineDependencies } from '../../core/pipeline.js';
import { createEventsHandler } from '../../core/reader/events.js';
import type { ReaderDependencies } from '../../core/reader/pipeline.js';
import { createDeliveriesHandler } from '../../core/reader/routes.js';
import { READER_DEFAULTS, type ReaderSettings } from '../../core/reader/settings.js';
import { readerDependencies } from '../../core/reader/wiring.js';
import { environmentSecretProviders } from '../../core/secrets/index.js';
import { createDynamoDbClient, type DynamoDbClientOptions } from '../../core/stores/dynamodb-client.js';
import { FEED, seqOf } from '../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { TOKENS_TABLE } from '../../core/stores/tables.js';
import { DynamoDbTokenStore, generateToken } from '../../core/stores/token-store.js';
import { createTelemetry } from '../../core/telemetry.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { LocalNotifier } from '../../local/notifier.js';
import { startHttpServer, type LocalHttpServer } from '../../local/server.js';
import { emptyDir } from './harness.js';
import { standardWebhooksSender } from './signed.js';
import { stallingStore, type StallingStore } from './stalling-store.js';
import { TEST_SECRETS } from './secrets.js';

/** A local server with the webhook route and the deliveries API on dynalite, and helpers to feed and read it. */
export interface ReaderHarness {
  readonly url: string;
  readonly config: HookwardenConfig;
  readonly local: LocalStore;
  /** The DynamoDB client every route of the harness uses (faults are injected into it). */
  readonly client: DynamoDBClient;
  readonly tokens: DynamoDbTokenStore;
  readonly reader: ReaderDependencies;
  readonly http: LocalHttpServer;
  /** With `stallable`: the HTTP hop between the client and dynalite, which can hang chosen requests. */
  readonly stalls?: StallingStore;
  /** A new read token (every source unless `sources`), live for `ttlSeconds`. */
  token(options?: { sources?: string[]; ttlSeconds?: number }): Promise<{ token: string; id: string }>;
  /** Signs and posts one Standard Webhooks delivery to `source`; resolves to the status and the stored id. */
  deliver(source?: string, body?: string): Promise<{ status: number; id: string }>;
  /**
   * Writes a stored delivery of `default` straight into the table (as an item edited by hand would be), in the index at
   * now, with `attributes` replacing any of its attributes; resolves to that now, epoch milliseconds.
   */
  storeItem(id: string, attributes?: Record<string, AttributeValue>): Promise<number>;
  /**
   * Writes stored deliveries of `default` as {@link storeItem} does, the i-th in the index at `ms(i)`, 25 to a
   * BatchWriteItem: a thousand in 40 requests rather than a thousand claims, for a timeline that needs them all stored
   * well before their time even on a loaded machine.
   */
  storeItems(ids: readonly string[], ms: (i: number) => number): Promise<void>;
  /**
   * Waits `settleMs` and a little more by the clock: a new stream starts `settleMs` before it opens, so one opened after
   * this sends nothing stored before it was called, however loaded the machine.
   */
  settled(): Promise<void>;
  /** GET with a bearer token and extra headers. */
  get(path: string, token: string | undefined, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** A stored delivery of `default` as an item of the deliveries table, in the index at `ms`, with `attributes` replacing any. */
const storedItem = (id: string, ms: number, attributes: Record<string, AttributeValue> = {}): Record<string, AttributeValue> => ({
  pk: { S: `default#${id}` },
  source: { S: 'default' },
  deliveryId: { S: id },
  receivedAt: { N: String(ms) },
  expiresAt: { N: String(Math.floor(Date.now() / 1000) + 600) },
  headers: { M: {} },
  body: { B: Buffer.from('{}') },
  bodyBytes: { N: '2' },
  clientIp: { S: '127.0.0.1' },
  status: { S: 'stored' },
  token: { S: 'edited' },
  feed: { S: FEED },
  seq: { S: seqOf(ms, 'default', id) },
  ...attributes,
});

/** Starts the harness. Sources: `default` and `billing`, both Standard Webhooks with the test secret. */
export const startReaderHarness = async (
  options: {
    env?: Record<string, string>;
    settings?: Partial<ReaderSettings>;
    notifier?: boolean;
    tokenCacheMs?: number;
    /** The client reaches dynalite through a {@link StallingStore} (`stalls`). @default false */
    stallable?: boolean;
    /** More options of the harness's one client. @default 2 attempts */
    client?: DynamoDbClientOptions;
  } = {},
): Promise<ReaderHarness> => {
  const env = {
    HOOKWARDEN_CONFIG_JSON: JSON.stringify({
      sources: [
        { name: 'default', secretEnv: 'TEST_SECRET' },
        { name: 'billing', secretEnv: 'TEST_SECRET' },
      ],
    }),
    TEST_SECRET: TEST_SECRETS.standardWebhooks,
    ...options.env,
  };
  const config = loadConfig(env, emptyDir());
  const local = await startLocalStore();
  const stalls = options.stallable ? await stallingStore(local.endpoint) : undefined;
  const client = createDynamoDbClient({
    maxAttempts: 2,
    ...options.client,
    endpoint: stalls?.endpoint ?? local.endpoint,
    region: 'local',
  });
  const telemetry = createTelemetry();
  const deps: PipelineDependencies = {
    config,
    telemetry,
    store: new DynamoDbDeliveryStore({ client, tableName: config.tables.deliveries }),
    secretProviders: environmentSecretProviders,
  };
  const notifier = new LocalNotifier();
  const reader = readerDependencies({
    config,
    telemetry,
    client,
    env: {},
    settings: { ...READER_DEFAULTS, settleMs: 100, pollMs: 200, ...options.settings },
    ...(options.notifier === false ? {} : { notifier }),
    ...(options.tokenCacheMs === undefined ? {} : { tokenCacheMs: options.tokenCacheMs }),
  });
  const http = await startHttpServer(deps, {
    port: 0,
    webhookHandler: createWebhookHandler(deps),
    reader: { deliveries: createDeliveriesHandler(reader), events: createEventsHandler(reader) },
    onAccepted: () => notifier.notify(),
  });
  const tokens = new DynamoDbTokenStore({ client, tableName: TOKENS_TABLE.localName });
  const sign = standardWebhooksSender({ prefix: 'msg_reader' });
  return {
    url: http.url,
    config,
    local,
    client,
    tokens,
    reader,
    http,
    ...(stalls ? { stalls } : {}),
    token: async ({ sources = [], ttlSeconds = 3600 } = {}) => {
      const { token, id, hash } = generateToken();
      const now = Math.floor(Date.now() / 1000);
      await tokens.create({ id, name: 'test', sources, createdAt: now, expiresAt: now + ttlSeconds }, hash);
      return { token, id };
    },
    deliver: async (source = 'default', body) => {
      const d = sign(body === undefined ? {} : { body });
      const res = await fetch(`${http.url}/webhooks/${source}`, {
        method: 'POST',
        body: d.body,
        headers: { 'content-type': 'application/json', ...d.headers },
      });
      await res.arrayBuffer();
      return { status: res.status, id: d.id };
    },
    storeItem: async (id, attributes = {}) => {
      const now = Date.now();
      await client.send(new PutItemCommand({ TableName: config.tables.deliveries, Item: storedItem(id, now, attributes) }));
      return now;
    },
    storeItems: async (ids, ms) => {
      for (let start = 0; start < ids.length; start += 25) {
        let requests: WriteRequest[] = ids
          .slice(start, start + 25)
          .map((id, k) => ({ PutRequest: { Item: storedItem(id, ms(start + k)) } }));
        while (requests.length > 0) {
          const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [config.tables.deliveries]: requests } }));
          requests = out.UnprocessedItems?.[config.tables.deliveries] ?? [];
        }
      }
    },
    settled: async () => {
      const until = Date.now() + reader.settings.settleMs + 20;
      while (Date.now() < until) await new Promise((resolve) => setTimeout(resolve, until - Date.now()));
    },
    get: (path, token, headers = {}) =>
      fetch(`${http.url}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } }),
    close: async () => {
      await http.close();
      client.destroy();
      await stalls?.close();
      await local.close();
    },
  };
};
