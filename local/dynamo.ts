import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ListTablesCommand,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { FEED, seqOf } from '../core/stores/delivery-feed.js';
import dynalite from 'dynalite';
import { createDynamoDbClient } from '../core/stores/dynamodb-client.js';
import { TABLES, type IndexDefinition, type TableDefinition } from '../core/stores/tables.js';

/** A running embedded DynamoDB-compatible store. */
export interface LocalStore {
  /** `http://127.0.0.1:<port>`: any DynamoDB client (the CLI too) can use it while it runs. */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

/** Options of {@link startLocalStore}. */
export interface LocalStoreOptions {
  /** Directory for the data (LevelDB); omit to keep everything in memory. */
  readonly dataDir?: string;
  /** Loopback port. @default 0 (any free port) */
  readonly port?: number;
}

type LevelDb = { open(): Promise<void>; close(): Promise<void> };

/**
 * Whether another process holds the store's LevelDB lock. dynalite cannot open
 * a locked directory and then crashes its host on the first request (an
 * uncaught error inside its HTTP handler), so ask LevelDB first, through the
 * same `level` package dynalite loads. Best effort: `false` when it cannot tell.
 */
export const storeInUse = async (dir: string): Promise<boolean> => {
  let Level: new (path: string) => LevelDb;
  try {
    const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
    ({ Level } = fromDynalite('level') as { Level: typeof Level });
  } catch {
    return false;
  }
  const db = new Level(dir);
  try {
    await db.open();
    return false;
  } catch (error) {
    return ((error as Error).cause as { code?: string } | undefined)?.code === 'LEVEL_LOCKED';
  } finally {
    await db.close().catch(() => undefined);
  }
};

/** The data directory's store is open in another process (another npm start, or a CLI command). */
export class StoreInUseError extends Error {
  override readonly name = 'StoreInUseError';
}

/**
 * Serves the store only to the server's and the CLI's own clients. dynalite
 * answers any `Origin` with `Access-Control-Allow-Origin: *` (preflights
 * included) and checks no `Host`, so a web page the developer visits, or a
 * DNS-rebinding one, could read every stored body and write the tokens and the
 * blocklist once it found the port. A DynamoDB client names the endpoint
 * (`127.0.0.1:<port>`, or `localhost:<port>`) and sends no `Origin` or
 * `Sec-Fetch-*`; anything else gets 403.
 */
const guardFromBrowsers = (server: Server): void => {
  const serve = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  // The names a client gives the store, known once it listens (server.address() asks the socket each time: 25 µs a request).
  let hosts: readonly string[] = [];
  server.once('listening', () => {
    const { port } = server.address() as AddressInfo;
    hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const browser =
      req.headers.origin !== undefined || req.headers['sec-fetch-mode'] !== undefined || req.headers['sec-fetch-site'] !== undefined;
    if (browser || !hosts.includes((req.headers.host ?? '').toLowerCase())) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' });
      res.end('The local store answers only Hookwarden on this machine.\n');
      return;
    }
    for (const listener of serve) listener(req, res);
  });
};

/**
 * Starts dynalite in-process on loopback and creates the tables from the same
 * definitions the CDK constructs use (dynalite has no TTL: expiry is checked in code).
 * @throws StoreInUseError when another process has the data directory open
 */
export const startLocalStore = async (options: LocalStoreOptions = {}): Promise<LocalStore> => {
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    if (await storeInUse(options.dataDir)) {
      throw new StoreInUseError(
        `the store in ${options.dataDir} is in use by another process (another npm start?); stop it or set HOOKWARDEN_DATA_DIR to another directory`,
      );
    }
  }
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.dataDir ? { path: options.dataDir } : {}) });
  guardFromBrowsers(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createDynamoDbClient({ endpoint, region: 'local', maxAttempts: 2 });
  await createTables(client, TABLES);
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const indexSpec = (index: IndexDefinition) => ({
  IndexName: index.name,
  KeySchema: [
    { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.include] },
});

const attributesOf = (table: TableDefinition) => [
  { AttributeName: table.partitionKey, AttributeType: 'S' as const },
  ...(table.indexes ?? []).flatMap((index) => [
    { AttributeName: index.partitionKey, AttributeType: 'S' as const },
    { AttributeName: index.sortKey, AttributeType: 'S' as const },
  ]),
];

type Item = Record<string, AttributeValue>;

/** A stored delivery written before the byTime index existed gets its index keys (store time: its receivedAt). */
const withIndexKeys = (item: Item): Item =>
  item.status?.S === 'stored' && !item.seq && item.source?.S && item.deliveryId?.S
    ? { ...item, feed: { S: FEED }, seq: { S: seqOf(Number(item.receivedAt?.N ?? 0), item.source.S, item.deliveryId.S) } }
    : item;

/**
 * Creates a table and waits until it is ACTIVE: dynalite turns it ACTIVE a tick
 * later, and a store closed before that keeps it CREATING on disk for good.
 */
const createTable = async (client: DynamoDBClient, table: TableDefinition): Promise<void> => {
  await client.send(
    new CreateTableCommand({
      TableName: table.localName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributesOf(table),
      KeySchema: [{ AttributeName: table.partitionKey, KeyType: 'HASH' }],
      ...(table.indexes?.length ? { GlobalSecondaryIndexes: table.indexes.map(indexSpec) } : {}),
    }),
  );
  for (let i = 0; i < 200; i++) {
    const described = await client.send(new DescribeTableCommand({ TableName: table.localName }));
    if (described.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/**
 * Gives a table made by an earlier version the indexes it lacks. dynalite
 * cannot add an index to a table, so the table is read, made again with its
 * indexes, and its items written back (deliveries with their index keys).
 * Local data only, and small.
 */
const addMissingIndexes = async (client: DynamoDBClient, table: TableDefinition): Promise<void> => {
  const described = await client.send(new DescribeTableCommand({ TableName: table.localName }));
  const present = new Set((described.Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  if ((table.indexes ?? []).every((index) => present.has(index.name))) return;
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table.localName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  await client.send(new DeleteTableCommand({ TableName: table.localName }));
  await createTable(client, table);
  for (const item of items) await client.send(new PutItemCommand({ TableName: table.localName, Item: withIndexKeys(item) }));
};

/**
 * Creates the tables that do not exist yet (on-demand, string keys, with their
 * indexes), and gives one made by an earlier version the indexes it lacks.
 */
export const createTables = async (client: DynamoDBClient, tables: readonly TableDefinition[]): Promise<void> => {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const table of tables) {
    if (existing.has(table.localName)) await addMissingIndexes(client, table);
    else await createTable(client, table);
  }
};
