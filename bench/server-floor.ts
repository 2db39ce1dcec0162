// The floor of the local-server benchmark: a bare node:http server that does what a delivery needs
// and nothing else: Standard Webhooks verification with node:crypto, one conditional PutItem, 202.
// Like `npm start`, it embeds dynalite in its own process (local/dynamo.ts, on disk, the same tables),
// and runs under tsx: the two differ in what they do per request, not in where their store lives.
// With FLOOR_STORE=hookwarden it stores through Hookwarden's own DynamoDbDeliveryStore instead (the same item,
// condition and gzip as npm start's, every other step still bare): the benchmark's decomposition of the gap.
// Run by bench/server-throughput.ts; prints {"url":...} once listening.
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startLocalStore } from '../local/dynamo.js';
import { DELIVERIES_TABLE } from '../core/stores/tables.js';
import { DynamoDbDeliveryStore } from '../core/stores/dynamodb-delivery-store.js';

const { FLOOR_DATA_DIR: dataDir, FLOOR_SECRET: secret } = process.env;
if (!dataDir || !secret) throw new Error('server-floor: FLOOR_DATA_DIR and FLOOR_SECRET are required');
const key = createSecretKey(Buffer.from(secret.slice('whsec_'.length), 'base64'));
const { client } = await startLocalStore({ dataDir });
const table = DELIVERIES_TABLE.localName;
const hookwardenStore = process.env.FLOOR_STORE === 'hookwarden' ? new DynamoDbDeliveryStore({ client, tableName: table }) : undefined;

const answer = (res: ServerResponse, status: number, body: object): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const id = req.headers['webhook-id'];
    const timestamp = req.headers['webhook-timestamp'];
    const signatures = req.headers['webhook-signature'];
    if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string')
      return answer(res, 401, { code: 'signature_invalid' });
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return answer(res, 401, { code: 'timestamp_out_of_range' });
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
    const ok = signatures.split(' ').some((s) => {
      const mac = Buffer.from(s.slice(3), 'base64');
      return s.startsWith('v1,') && mac.length === expected.length && timingSafeEqual(mac, expected);
    });
    if (!ok) return answer(res, 401, { code: 'signature_invalid' });
    const now = Math.floor(Date.now() / 1000);
    if (hookwardenStore) {
      // What npm start's replay guard hands its store for this delivery (the scheme's kept headers, the event type it
      // reads from the body), given as constants: finding them is the part of npm start's work this leaves out.
      const headers = { 'content-type': 'application/json', 'webhook-id': id };
      const record = {
        source: 'default',
        deliveryId: id,
        receivedAt: Date.now(),
        expiresAt: now + 86_400,
        eventType: 'invoice.paid',
        headers,
        body,
        clientIp: '127.0.0.1',
      };
      return void hookwardenStore.claim(record, { nowSeconds: now }).then(
        (claim) =>
          claim.outcome === 'claimed' ? answer(res, 202, { status: 'accepted', id }) : answer(res, 200, { status: 'duplicate', id }),
        () => answer(res, 503, { code: 'store_unavailable' }),
      );
    }
    client
      .send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: `default#${id}` }, body: { B: body }, receivedAt: { N: String(now) }, expiresAt: { N: String(now + 86_400) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .then(
        () => answer(res, 202, { status: 'accepted', id }),
        (error: unknown) =>
          error instanceof ConditionalCheckFailedException
            ? answer(res, 200, { status: 'duplicate', id })
            : answer(res, 503, { code: 'store_unavailable' }),
      );
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
// A normal exit on SIGTERM, so that node --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
