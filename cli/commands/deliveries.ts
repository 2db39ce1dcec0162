import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StoredDelivery } from '../../functions/shared/stores/delivery-store';
import { createDynamoDbClient } from '../../functions/shared/stores/dynamodb-client';
import { DynamoDbDeliveryStore } from '../../functions/shared/stores/dynamodb-delivery-store';
import { startLocalStore, storeInUse } from '../../local/dynamo';
import { runningServer } from '../../local/index';
import { CommandFailed, configOf, UsageError, type CliContext } from '../context';
import { output } from '../output';

/**
 * Runs `work` with a DynamoDB client on the local store: through a running
 * server's endpoint (the embedded store locks its files while the server
 * runs), else by opening the data directory directly, closed afterwards.
 * Shared by `deliveries` and the containment commands.
 * @throws CommandFailed when there is no store yet, or it is in use but no server says so
 */
export const withStoreClient = async <T>(context: CliContext, work: (client: DynamoDBClient) => Promise<T>): Promise<T> => {
  const server = runningServer(context.dataDir);
  if (server) {
    const client = createDynamoDbClient({ endpoint: server.dynamoEndpoint, region: 'local', maxAttempts: 1 });
    try {
      return await work(client);
    } catch (error) {
      if (error instanceof UsageError || error instanceof CommandFailed) throw error;
      throw new CommandFailed(`the running server's store at ${server.dynamoEndpoint} failed: ${(error as Error).message}`);
    } finally {
      client.destroy();
    }
  }
  const dir = join(context.dataDir, 'dynamodb');
  if (!existsSync(dir)) throw new CommandFailed(`no local store in ${context.dataDir} yet: npm start creates it (set HOOKWARDEN_DATA_DIR if it runs elsewhere)`);
  if (await storeInUse(dir)) {
    throw new CommandFailed(`the store in ${dir} is in use by another process but no running server is recorded in ${context.dataDir}: retry in a moment`);
  }
  const local = await startLocalStore({ dataDir: dir });
  try {
    return await work(local.client);
  } finally {
    await local.close();
  }
};

/** {@link withStoreClient} with the deliveries store on top (table name from the same configuration as the server). */
export const withLocalStore = <T>(context: CliContext, work: (store: DynamoDbDeliveryStore) => Promise<T>): Promise<T> => {
  const tableName = configOf(context).tables.deliveries;
  return withStoreClient(context, (client) => work(new DynamoDbDeliveryStore({ client, tableName })));
};

const iso = (epochMs: number): string => new Date(epochMs).toISOString();
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const summary = (d: StoredDelivery): string =>
  [iso(d.receivedAt), d.source, d.deliveryId, d.eventType ?? '-', `${d.body.length} B`, d.status].join('  ');

/** Options of `hookwarden deliveries`. */
export interface ListOptions {
  source?: string;
  limit: number;
  json?: boolean;
}

/** `hookwarden deliveries`: live deliveries, newest first, one line each (or JSON without bodies). */
export const listDeliveriesCommand = async (context: CliContext, options: ListOptions): Promise<number> => {
  const found = await withLocalStore(context, (store) =>
    store.list({ limit: options.limit, nowSeconds: nowSeconds(), ...(options.source !== undefined ? { source: options.source } : {}) }),
  );
  if (options.json) {
    const rows = found.map(({ body, receivedAt, ...rest }) => ({ ...rest, receivedAt: iso(receivedAt), bodyBytes: body.length }));
    output.line(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (found.length === 0) output.line(options.source === undefined ? 'no deliveries stored' : `no deliveries stored for "${options.source}"`);
  for (const delivery of found) output.line(summary(delivery));
  return 0;
};

/**
 * `hookwarden deliveries show <source> <id>`: one delivery's summary and kept
 * headers; with `--body` the body, as text when it is UTF-8, else base64.
 * @returns 0, or throws CommandFailed when there is no such live delivery
 */
export const showDeliveryCommand = async (context: CliContext, source: string, id: string, options: { body?: boolean }): Promise<number> => {
  const delivery = await withLocalStore(context, (store) => store.get(source, id, nowSeconds()));
  if (!delivery) throw new CommandFailed(`no stored delivery "${id}" for source "${source}" (see hookwarden deliveries)`);
  output.line(summary(delivery));
  output.line(`client IP: ${delivery.clientIp}`);
  output.line(`expires: ${iso(delivery.expiresAt * 1000)}`);
  for (const [name, value] of Object.entries(delivery.headers)) output.line(`${name}: ${value}`);
  if (options.body) {
    const text = delivery.body.toString('utf8');
    // A round trip that changes the bytes means they were not UTF-8: printing them would show something else.
    const isText = Buffer.from(text, 'utf8').equals(delivery.body);
    output.line('');
    output.line(isText ? text : `(not UTF-8; base64) ${delivery.body.toString('base64')}`);
  }
  return 0;
};
