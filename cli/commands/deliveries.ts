import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { StoredDelivery } from '../../functions/shared/stores/delivery-store';
import { createDynamoDbClient } from '../../functions/shared/stores/dynamodb-client';
import { DynamoDbDeliveryStore } from '../../functions/shared/stores/dynamodb-delivery-store';
import { DELIVERIES_TABLE, tableName } from '../../functions/shared/stores/tables';
import { startLocalStore } from '../../local/dynamo';
import { runningServer } from '../../local/index';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CommandFailed, configOf, type CliContext } from '../context';
import { output } from '../output';

/**
 * Runs `work` with a DynamoDB client on the local store: through a running
 * server's endpoint (the embedded store locks its files), else by opening the
 * data directory directly.
 */
export const withStoreClient = async <T>(context: CliContext, work: (client: DynamoDBClient) => Promise<T>): Promise<T> => {
  const server = runningServer(context.dataDir);
  if (server) {
    const client = createDynamoDbClient({ endpoint: server.dynamoEndpoint, region: 'local', maxAttempts: 1 });
    try {
      return await work(client);
    } finally {
      client.destroy();
    }
  }
  const dir = join(context.dataDir, 'dynamodb');
  if (!existsSync(dir)) throw new CommandFailed(`no local store in ${context.dataDir} yet: run npm start first`);
  const local = await startLocalStore({ dataDir: dir });
  try {
    return await work(local.client);
  } finally {
    await local.close();
  }
};

/** {@link withStoreClient} with the deliveries store on top. */
export const withLocalStore = <T>(context: CliContext, work: (store: DynamoDbDeliveryStore) => Promise<T>): Promise<T> =>
  withStoreClient(context, (client) => work(new DynamoDbDeliveryStore({ client, tableName: tableName(DELIVERIES_TABLE, context.env) })));

const summary = (d: StoredDelivery): string =>
  [new Date(d.receivedAt).toISOString(), d.source, d.deliveryId, d.eventType ?? '-', `${d.body.length} B`, d.status].join('  ');

/** `hookwarden deliveries`: newest first. */
export const listDeliveriesCommand = async (context: CliContext, options: { source?: string; limit: number; json?: boolean }): Promise<number> => {
  // Validate the configuration as the server would, so a typo in the environment is seen here too.
  configOf(context);
  const found = await withLocalStore(context, (store) =>
    store.list({ limit: options.limit, nowSeconds: Math.floor(Date.now() / 1000), ...(options.source ? { source: options.source } : {}) }),
  );
  if (options.json) {
    output.line(JSON.stringify(found.map(({ body, ...rest }) => ({ ...rest, bodyBytes: body.length })), null, 2));
    return 0;
  }
  if (found.length === 0) output.line('no deliveries stored');
  for (const delivery of found) output.line(summary(delivery));
  return 0;
};

/** `hookwarden deliveries show <source> <id>`. */
export const showDeliveryCommand = async (context: CliContext, source: string, id: string, options: { body?: boolean }): Promise<number> => {
  const delivery = await withLocalStore(context, (store) => store.get(source, id, Math.floor(Date.now() / 1000)));
  if (!delivery) throw new CommandFailed(`no stored delivery ${source}#${id}`);
  output.line(summary(delivery));
  output.line(`client IP: ${delivery.clientIp}`);
  for (const [name, value] of Object.entries(delivery.headers)) output.line(`${name}: ${value}`);
  if (options.body) {
    const text = delivery.body.toString('utf8');
    output.line('');
    output.line(Buffer.from(text, 'utf8').equals(delivery.body) ? text : `(base64) ${delivery.body.toString('base64')}`);
  }
  return 0;
};
