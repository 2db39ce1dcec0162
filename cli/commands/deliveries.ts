import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DamagedDeliveryError } from '../../core/errors.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore, isDamaged, type ListedDelivery } from '../../core/stores/dynamodb-delivery-store.js';
import { startLocalStore, storeInUse } from '../../local/dynamo.js';
import { runningServer, SERVER_FILE } from '../../local/server-info.js';
import { CommandFailed, configOf, sourceOf, UsageError, type CliContext } from '../context.js';
import { output } from '../output.js';
import { terminalSafe } from '../terminal.js';

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
      // A delivery whose body cannot be read whole is what the store holds, not a failure of the store.
      if (error instanceof UsageError || error instanceof DamagedDeliveryError) throw error;
      // A server killed without stopping leaves its file, and its pid may since be another process's: the advice to
      // retry (or that the command is safe to run again) would never come true.
      if (!(await accepts(server.dynamoEndpoint)))
        throw new CommandFailed(
          `${join(context.dataDir, SERVER_FILE)} names a server (pid ${server.pid}) whose store at ${server.dynamoEndpoint} does not answer: ` +
            'if npm start is not running with this data directory, a server that was killed left the file behind; remove it and run the command again',
        );
      if (error instanceof CommandFailed) throw error;
      throw new CommandFailed(`the running server's store at ${server.dynamoEndpoint} failed: ${(error as Error).message}`);
    } finally {
      client.destroy();
    }
  }
  const dir = join(context.dataDir, 'dynamodb');
  if (!existsSync(dir))
    throw new CommandFailed(
      `no local store in ${context.dataDir} yet: npm start creates it (set HOOKWARDEN_DATA_DIR if it runs elsewhere)`,
    );
  if (await storeInUse(dir)) {
    throw new CommandFailed(
      `the store in ${dir} is in use by another process but no running server is recorded in ${context.dataDir}: retry in a moment`,
    );
  }
  const local = await startLocalStore({ dataDir: dir });
  try {
    return await work(local.client);
  } finally {
    await local.close();
  }
};

/** Whether anything accepts a TCP connection at an http URL's host and port within a second. */
const accepts = (endpoint: string): Promise<boolean> =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(endpoint);
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 80), timeout: 1000 });
    const settle = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
    socket.once('timeout', () => settle(false));
  });

/** {@link withStoreClient} with the deliveries store on top (table name from the same configuration as the server). */
export const withLocalStore = <T>(context: CliContext, work: (store: DynamoDbDeliveryStore) => Promise<T>): Promise<T> => {
  const tableName = configOf(context).tables.deliveries;
  return withStoreClient(context, (client) => work(new DynamoDbDeliveryStore({ client, tableName })));
};

const iso = (epochMs: number): string => new Date(epochMs).toISOString();
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

// Ids, event types and headers came from a request: escaped, so they cannot drive the terminal.
// The id shown is the one the provider's dashboard shows (its unsigned id) where there is one; `show` takes either.
// A delivery whose body cannot be read whole is listed with what its record says, marked, and the reason why.
const summary = (d: ListedDelivery): string =>
  terminalSafe(
    [
      iso(d.receivedAt),
      d.source,
      d.providerId ?? d.deliveryId,
      d.eventType ?? '-',
      `${sizeOf(d)} B`,
      d.status,
      ...(isDamaged(d) ? [`DAMAGED (${d.damaged})`] : []),
    ].join('  '),
  );

/** The body's length: read, or as the record of a damaged delivery names it. */
const sizeOf = (d: ListedDelivery): number => (isDamaged(d) ? d.bodyBytes : d.body.length);

/**
 * A stored delivery as `--json` prints it: the deliveries API's names (`id`, `size`, ISO 8601 `receivedAt`,
 * `eventType` null when unknown; see core/reader/routes.ts), then what only the store holds (status, the
 * provider's own id, client IP, kept headers, expiry). Never the body: `show --body --json` adds it. A delivery whose
 * body cannot be read whole has `damaged`, the reason (absent on every other), and its record's `size`.
 */
const asJson = (d: ListedDelivery) => ({
  source: d.source,
  id: d.deliveryId,
  receivedAt: iso(d.receivedAt),
  eventType: d.eventType ?? null,
  size: sizeOf(d),
  status: d.status,
  ...(isDamaged(d) ? { damaged: d.damaged } : {}),
  ...(d.leaseExpiresAt === undefined ? {} : { leaseExpiresAt: iso(d.leaseExpiresAt * 1000) }),
  ...(d.providerId === undefined ? {} : { providerId: d.providerId }),
  clientIp: d.clientIp,
  headers: d.headers,
  expiresAt: iso(d.expiresAt * 1000),
});

/**
 * Every live delivery of a source: a scan, fine for a local command (finding one by the provider's own id). Damaged
 * ones are marked, not thrown: one of them made every other delivery of its source unreachable by the provider's id.
 */
const liveDeliveriesOf = (store: DynamoDbDeliveryStore, source: string, now: number): Promise<ListedDelivery[]> =>
  store.listChecked({ source, limit: Number.MAX_SAFE_INTEGER, nowSeconds: now });

/** The live delivery whose provider's own (unsigned) id, the one the list shows, is `id` (marked when damaged). */
const byProviderId = async (store: DynamoDbDeliveryStore, source: string, id: string, now: number): Promise<ListedDelivery | undefined> =>
  (await liveDeliveriesOf(store, source, now)).find((d) => d.providerId === id);

/**
 * The replay key of the local store's delivery whose provider's own id is `id` (as `hookwarden deliveries`
 * lists it), for the commands that read through the deliveries API, which knows a delivery by its replay key only.
 * @returns undefined when there is none, or no local store to ask
 */
export const replayKeyOfProviderId = async (context: CliContext, source: string, id: string): Promise<string | undefined> => {
  try {
    return (await withLocalStore(context, (store) => byProviderId(store, source, id, nowSeconds())))?.deliveryId;
  } catch {
    return undefined;
  }
};

/** Options of `hookwarden deliveries`. */
export interface ListOptions {
  source?: string;
  limit: number;
  json?: boolean;
}

/**
 * `hookwarden deliveries`: live deliveries, newest first, one line each (or JSON without bodies). A delivery whose body
 * cannot be read whole is listed marked DAMAGED (`damaged` in JSON), with a line on standard error; the rest are listed.
 * @throws UsageError for `--source` naming no configured source and nothing stored: a typo, not an empty source
 * (a source taken out of the configuration still lists what it stored)
 */
export const listDeliveriesCommand = async (context: CliContext, options: ListOptions): Promise<number> => {
  const found = await withLocalStore(context, (store) =>
    store.listChecked({
      limit: options.limit,
      nowSeconds: nowSeconds(),
      ...(options.source !== undefined ? { source: options.source } : {}),
    }),
  );
  const damaged = found.filter(isDamaged).length;
  if (damaged > 0)
    output.error(
      `${damaged} ${damaged === 1 ? 'delivery' : 'deliveries'} listed as damaged: the stored body cannot be read whole (a part missing or altered)`,
    );
  if (options.source !== undefined && found.length === 0) sourceOf(configOf(context), options.source);
  if (options.json) {
    output.json(found.map((delivery) => asJson(delivery)));
    return 0;
  }
  if (found.length === 0)
    output.line(options.source === undefined ? 'no deliveries stored' : `no deliveries stored for "${options.source}"`);
  for (const delivery of found) output.line(summary(delivery));
  return 0;
};

/** Options of `hookwarden deliveries show`. */
export interface ShowOptions {
  body?: boolean;
  json?: boolean;
}

/** Whether the bytes are UTF-8 text (a round trip that changes them means they were not). */
const isUtf8 = (body: Buffer): boolean => Buffer.from(body.toString('utf8'), 'utf8').equals(body);

/**
 * `hookwarden deliveries show <source> <id>` (the replay key or the provider's own id): one delivery's summary and kept
 * headers. With `--body`, standard output gets exactly the stored body bytes
 * (so `> body.bin` or `| hookwarden send --file` reproduce it) and the summary
 * goes to standard error; on a terminal the body is shown with its control
 * characters escaped. `--json` prints one object with the deliveries API's names (the body, with `--body`,
 * as `body`: UTF-8 text, else base64 with `bodyEncoding: "base64"`, as `GET /deliveries/{source}/{id}` gives it).
 * @returns 0, or throws CommandFailed when there is no such live delivery
 * @throws UsageError for a source neither configured nor stored (a typo)
 */
export const showDeliveryCommand = async (context: CliContext, source: string, id: string, options: ShowOptions): Promise<number> => {
  // The store refuses a longer key (a validation error, not an answer); no delivery id comes near it.
  if (Buffer.byteLength(id, 'utf8') > 1024) throw new UsageError(`<id>: at most 1024 bytes, got ${Buffer.byteLength(id, 'utf8')}`);
  const { delivery, sourceStored } = await withLocalStore(context, async (store) => {
    const now = nowSeconds();
    const byKey = await store.get(source, id, now);
    if (byKey) return { delivery: byKey, sourceStored: true };
    // The provider's own (unsigned) id; and whether the source stored anything at all (else a typo of its name).
    const stored = await liveDeliveriesOf(store, source, now);
    const found = stored.find((d) => d.providerId === id);
    // Fail closed on the one asked for, as `get` does: never a summary or body of a delivery that cannot be read whole.
    if (found && isDamaged(found)) throw new DamagedDeliveryError(found.source, found.deliveryId, found.damaged);
    return { delivery: found, sourceStored: stored.length > 0 };
  });
  if (!delivery) {
    // As the list does: a source neither configured nor stored is a typo (`Stripe`), not a delivery that was never stored.
    if (!sourceStored) sourceOf(configOf(context), source);
    throw new CommandFailed(`no stored delivery "${id}" for source "${source}" (see hookwarden deliveries)`);
  }
  if (options.json) {
    const { body } = delivery;
    output.json({
      ...asJson(delivery),
      ...(options.body ? (isUtf8(body) ? { body: body.toString('utf8') } : { body: body.toString('base64'), bodyEncoding: 'base64' }) : {}),
    });
    return 0;
  }
  // With --body, standard output is the body alone.
  const print = options.body ? output.error : output.line;
  print(summary(delivery));
  if (delivery.providerId) print(`replay key: ${terminalSafe(delivery.deliveryId)} (the provider's id is not signed)`);
  print(`client IP: ${terminalSafe(delivery.clientIp)}`);
  print(`expires: ${iso(delivery.expiresAt * 1000)}`);
  for (const [name, value] of Object.entries(delivery.headers)) print(terminalSafe(`${name}: ${value}`));
  if (options.body) {
    if (!output.toTerminal()) output.bytes(delivery.body);
    else {
      if (!isUtf8(delivery.body)) output.error('(not UTF-8: invalid bytes shown as U+FFFD; redirect to a file for the exact bytes)');
      output.line(terminalSafe(delivery.body.toString('utf8'), { layout: true }));
    }
  }
  return 0;
};
