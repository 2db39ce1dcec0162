import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createDynamoDbClient } from '../functions/shared/stores/dynamodb-client';
import { TABLES, type TableDefinition } from '../functions/shared/stores/tables';

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

/**
 * Starts dynalite in-process on loopback and creates the tables from the same
 * definitions the CDK constructs use (dynalite has no TTL: expiry is checked in code).
 */
export const startLocalStore = async (options: LocalStoreOptions = {}): Promise<LocalStore> => {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.dataDir ? { path: options.dataDir } : {}) });
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

/** Creates the tables that do not exist yet (on-demand, string partition key). */
export const createTables = async (client: DynamoDBClient, tables: readonly TableDefinition[]): Promise<void> => {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const table of tables) {
    if (existing.has(table.localName)) continue;
    await client.send(
      new CreateTableCommand({
        TableName: table.localName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: table.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: table.partitionKey, KeyType: 'HASH' }],
      }),
    );
  }
};
