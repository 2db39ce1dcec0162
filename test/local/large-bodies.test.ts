import { randomBytes } from 'node:crypto';
import { DeleteItemCommand, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/program.js';
import type { CliContext } from '../../cli/context.js';
import { BODY_PART_PREFIX, bodyPartKey } from '../../core/stores/body-parts.js';
import { deliveryKey } from '../../core/stores/delivery-store.js';
import { DELIVERIES_TABLE } from '../../core/stores/tables.js';
import { readDevelopmentToken } from '../../local/dev-token.js';
import { startLocal, type LocalHookwarden } from '../../local/index.js';
import { capture } from '../helpers/capture.js';
import { emptyDir } from '../helpers/harness.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/**
 * 600 KB of JSON carrying a file in base64 (random bytes: gzip leaves about 456,000 bytes, more than the 380,000 one
 * DynamoDB item holds). The Standard Webhooks library signs text (it turns a Buffer into a string), hence base64.
 */
const largeBody = (): Buffer => Buffer.from(JSON.stringify({ type: 'file.uploaded', data: randomBytes(450_000).toString('base64') }));

/**
 * An authentic delivery within the source's size limit whose body gzip cannot bring under one DynamoDB item was
 * refused 413 after its signature checked, for good. Through `npm start`'s server, its embedded store, the
 * deliveries API and the command line, as a sender and a reader see it.
 */
describe('a 600 KB body that compresses poorly, through the local server', () => {
  const dataDir = emptyDir();
  const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_DATA_DIR: dataDir, PORT: '0' };
  const context: CliContext = { env, cwd: emptyDir(), dataDir };
  let local: LocalHookwarden;
  let receiver: Receiver;
  let n = 0;

  const cli = (args: string[]) => capture(() => run(['node', 'hookwarden', ...args], context));

  /** A delivery signed by the Standard Webhooks specification's own library, over these exact bytes. */
  const signed = (body: Buffer, id = `msg_large_${Date.now()}_${++n}`) => {
    const at = new Date();
    return {
      id,
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(TEST_SECRETS.standardWebhooks).sign(id, at, body),
      },
    };
  };
  const post = (d: ReturnType<typeof signed>) =>
    fetch(`${local.url}/webhooks/default`, { method: 'POST', body: new Uint8Array(d.body), headers: d.headers });
  const read = (id: string) =>
    fetch(`${local.url}/deliveries/default/${id}`, { headers: { authorization: `Bearer ${readDevelopmentToken(dataDir) as string}` } });
  const itemsOfTable = async () => (await local.store.client.send(new ScanCommand({ TableName: DELIVERIES_TABLE.localName }))).Items ?? [];

  beforeAll(async () => {
    local = await startLocal({ env, cwd: context.cwd });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await local?.close();
  });

  it('accepts it (202), stores it once, answers its copy as a duplicate, and every reader gets the exact bytes', async () => {
    const d = signed(largeBody());
    const first = await post(d);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ id: d.id });
    const copy = await post(d);
    expect(copy.status).toBe(200);
    expect(await copy.json()).toEqual({ status: 'duplicate', id: d.id });
    // Stored once: one record, and the parts it names (the copy's own were removed when it turned out a duplicate).
    const items = await itemsOfTable();
    const records = items.filter((item) => item.pk?.S === deliveryKey('default', d.id));
    expect(records).toHaveLength(1);
    const token = records[0]?.token?.S as string;
    const parts = items.filter((item) => item.pk?.S?.startsWith(BODY_PART_PREFIX));
    expect(parts.map((item) => item.pk?.S).sort()).toEqual([bodyPartKey(token, 0), bodyPartKey(token, 1)]);

    // The deliveries API: the body as the UTF-8 text it is.
    const answer = await read(d.id);
    expect(answer.status).toBe(200);
    const json = (await answer.json()) as { body: string; bodyEncoding?: string; eventType: string };
    expect(json).toMatchObject({ eventType: 'file.uploaded' });
    expect(json.bodyEncoding).toBeUndefined();
    expect(Buffer.from(json.body, 'utf8').equals(d.body)).toBe(true);

    // `hookwarden deliveries`: listed once, with its size; `show --body --json` gives the same bytes.
    const listed = await cli(['deliveries', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = (JSON.parse(listed.stdout) as Array<{ id: string; size: number }>).filter((row) => row.id === d.id);
    expect(rows).toEqual([expect.objectContaining({ id: d.id, size: d.body.length })]);
    const shown = await cli(['deliveries', 'show', 'default', d.id, '--body', '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(Buffer.from((JSON.parse(shown.stdout) as { body: string }).body, 'utf8').equals(d.body)).toBe(true);

    // `hookwarden replay` sends the original bytes on.
    const before = receiver.received.length;
    const replayed = await cli(['replay', 'default', d.id, '--to', receiver.url]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(receiver.received[before]?.body.equals(d.body)).toBe(true);
  });

  it('lists no part as a delivery, in the API or the command line', async () => {
    const d = signed(largeBody());
    expect((await post(d)).status).toBe(202);
    expect((await itemsOfTable()).some((item) => item.pk?.S?.startsWith(BODY_PART_PREFIX))).toBe(true);
    const api = await fetch(`${local.url}/deliveries?limit=100`, {
      headers: { authorization: `Bearer ${readDevelopmentToken(dataDir) as string}` },
    });
    const { deliveries } = (await api.json()) as { deliveries: Array<{ source: string; id: string }> };
    expect(deliveries.every((row) => row.source === 'default' && row.id.startsWith('msg_'))).toBe(true);
    const listed = await cli(['deliveries', '--json', '--limit', '1000']);
    const rows = JSON.parse(listed.stdout) as Array<{ source: string; id: string }>;
    expect(rows.every((row) => row.source === 'default' && row.id.startsWith('msg_'))).toBe(true);
    expect(rows.length).toBe(deliveries.length);
  });

  it('fails closed when a part was deleted by hand: the API answers 500 delivery_damaged, never a truncated body', async () => {
    const d = signed(largeBody());
    expect((await post(d)).status).toBe(202);
    const record = await local.store.client.send(
      new GetItemCommand({ TableName: DELIVERIES_TABLE.localName, Key: { pk: { S: deliveryKey('default', d.id) } } }),
    );
    const token = record.Item?.token?.S as string;
    await local.store.client.send(
      new DeleteItemCommand({ TableName: DELIVERIES_TABLE.localName, Key: { pk: { S: bodyPartKey(token, 0) } } }),
    );

    const answer = await read(d.id);
    expect(answer.status).toBe(500);
    const text = await answer.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'delivery_damaged' } });
    expect(text).not.toContain(d.body.subarray(500_000, 500_100).toString('utf8'));

    const shown = await cli(['deliveries', 'show', 'default', d.id, '--body']);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toBe('');
    expect(shown.stderr).toMatch(new RegExp(`delivery default/${d.id} cannot be read whole: part 1 of 2 is missing`));

    // Its copy is still a duplicate (the record holds the delivery): the store does not take a second one.
    expect((await post(d)).status).toBe(200);
  });

  it('lists a damaged delivery marked as such, and every other delivery of its source, in text and JSON', async () => {
    const damaged = signed(largeBody());
    const healthy = signed(Buffer.from('{"type":"small"}'));
    expect((await post(damaged)).status).toBe(202);
    expect((await post(healthy)).status).toBe(202);
    const record = await local.store.client.send(
      new GetItemCommand({ TableName: DELIVERIES_TABLE.localName, Key: { pk: { S: deliveryKey('default', damaged.id) } } }),
    );
    await local.store.client.send(
      new DeleteItemCommand({ TableName: DELIVERIES_TABLE.localName, Key: { pk: { S: bodyPartKey(record.Item?.token?.S as string, 1) } } }),
    );

    const listed = await cli(['deliveries', '--source', 'default', '--json', '--limit', '1000']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ id: string; size: number; damaged?: string }>;
    expect(rows.find((row) => row.id === damaged.id)).toMatchObject({ size: damaged.body.length, damaged: 'part 2 of 2 is missing' });
    expect(rows.find((row) => row.id === healthy.id)).toMatchObject({ size: healthy.body.length });
    expect(rows.find((row) => row.id === healthy.id)).not.toHaveProperty('damaged');
    expect(listed.stderr).toMatch(/listed as damaged/);

    const text = await cli(['deliveries', '--source', 'default', '--limit', '1000']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`${damaged.id} .*DAMAGED \\(part 2 of 2 is missing\\)`));
    expect(text.stdout).toMatch(new RegExp(`${healthy.id} `));

    // A healthy delivery of the same source stays reachable by id; the damaged one still fails closed.
    expect((await cli(['deliveries', 'show', 'default', healthy.id, '--body'])).stdout).toBe('{"type":"small"}');
    expect((await cli(['deliveries', 'show', 'default', damaged.id])).code).toBe(1);
  });
});
