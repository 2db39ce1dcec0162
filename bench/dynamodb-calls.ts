// DynamoDB calls per admitted, duplicate, rate-limited and forged request (counted, not timed), against dynalite.
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../core/config/index.js';
import { environmentSecretProviders } from '../core/secrets/index.js';
import { ControlsCache } from '../core/stores/controls-cache.js';
import { DynamoDbControlsStore } from '../core/stores/controls-store.js';
import { createDynamoDbClient } from '../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from '../core/stores/dynamodb-delivery-store.js';
import { DynamoDbRateLimiter } from '../core/stores/dynamodb-rate-limiter.js';
import { createTelemetry } from '../core/telemetry.js';
import { startLocalStore } from '../local/dynamo.js';
import { startHttpServer } from '../local/server.js';
import { print } from './measure.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Prints the calls each kind of request costs once a container is warm. */
export const dynamoCallsBenchmark = async (): Promise<void> => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const local = await startLocalStore();
  const client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
  const calls: Array<{ name: string; table: string }> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({
        name: String(context.commandName).replace(/Command$/, ''),
        table: String((args.input as { TableName?: string }).TableName ?? ''),
      });
      return next(args);
    },
    { step: 'initialize', name: 'count' },
  );
  const config = loadConfig(
    { WEBHOOK_SECRET: SECRET, WEBHOOK_RATE_LIMIT: '20/60s', WEBHOOK_CLIENT_RATE_LIMIT: '1000/60s' },
    '/nonexistent-dir-for-bench',
  );
  const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
  const tableOf = (table: string): string => (table === config.tables.deliveries ? 'deliveries' : 'rateLimits');
  const http = await startHttpServer(
    {
      config,
      store: new DynamoDbDeliveryStore({ client, tableName: config.tables.deliveries }),
      telemetry: createTelemetry(),
      secretProviders: environmentSecretProviders,
      rateLimiter: new DynamoDbRateLimiter({ client, tableName: config.tables.rateLimits }),
      controls: new ControlsCache({ store: new DynamoDbControlsStore({ client, tableName: config.tables.rateLimits }) }),
    },
    { port: 0 },
  );
  const sender = new Webhook(SECRET);
  let n = 0;
  const send = (id = `msg_bench_${++n}`, tamper = false) => {
    const at = new Date();
    const body = JSON.stringify({ type: 'bench', n });
    return fetch(`${http.url}/webhooks/default`, {
      method: 'POST',
      body: tamper ? `${body} ` : body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': sender.sign(id, at, body),
      },
    });
  };
  const measureCalls = async (label: string, request: () => Promise<Response>, count: number): Promise<void> => {
    const start = calls.length;
    const statuses = new Set<number>();
    for (let i = 0; i < count; i++) statuses.add((await request()).status);
    const made = calls.slice(start);
    const per = (filter: (c: { name: string; table: string }) => boolean): string =>
      (made.filter(filter).length / count).toFixed(2).replace(/\.00$/, '');
    const kinds = [...new Set(made.map((c) => `${c.name} ${tableOf(c.table)}`))];
    const which = kinds.map((k) => `${k} ×${per((c) => `${c.name} ${tableOf(c.table)}` === k)}`).join(', ');
    const writes = (table: string) => per((c) => WRITES.has(c.name) && tableOf(c.table) === table);
    print(
      `| ${label} | ${[...statuses].join('/')} | ${per(() => true)} | ${writes('deliveries')} | ${writes('rateLimits')} | ${which || 'none'} |`,
    );
  };

  await send(); // warm: the blocklist cache and the limiter's previous-window count
  print('## DynamoDB calls and writes per request (counted against dynalite, warm container, source and client limits both set)');
  print('');
  print('| request | status | calls | writes: deliveries | writes: rate limits | which |');
  print('|---|---|---|---|---|---|');
  await measureCalls('admitted delivery', () => send(), 10);
  await measureCalls('duplicate (copy of a stored one)', () => send('msg_bench_1'), 10);
  await measureCalls('forged (bad signature)', () => send(undefined, true), 10);
  for (let i = 0; i < 20; i++) await send(); // use up the rest of the window's 20
  await measureCalls('over the rate limit (429)', () => send(), 10);
  print('');
  print('Admitted: the counters (one UpdateItem per limit, in parallel), then one conditional PutItem: two round trips. Forged: none.');
  print('Duplicate: the counters, the failed PutItem, the counts given back; dynalite lacks ReturnValuesOnConditionCheckFailure,');
  print('so it adds a GetItem that DynamoDB itself does not need.');
  print('Refused: the counter writes (one fails its condition, the others are given back) and one GetItem (is it a copy of a');
  print('stored delivery? then 200 duplicate); never a write on the deliveries table, so no stream record.');
  print('');
  await http.close();
  client.destroy();
  await local.close();
};
