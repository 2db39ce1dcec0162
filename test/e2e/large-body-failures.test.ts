import { randomBytes } from 'node:crypto';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_PART_PREFIX } from '../../core/stores/body-parts.js';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

type Item = Record<string, AttributeValue>;
const signed = standardWebhooksSender({ prefix: 'msg_large_fail' });
/** About 750 KB of JSON around base64 of random bytes: about 570,000 bytes gzipped, two parts. */
const large = () => signed({ body: JSON.stringify({ type: 'file.uploaded', data: randomBytes(560_000).toString('base64') }) });

/**
 * A large delivery (stored in part items) when the store fails part-way through its claim, over real HTTP: the sender
 * gets 503 (it retries), never 202 for a body that is not stored whole, nor 413 or 500; its retry is stored whole.
 * Copies at once: the claim decides first, and only the one that wins writes the parts.
 */
describe('a large delivery when the store fails mid-claim (real HTTP, dynalite)', () => {
  let h: Harness;
  /** Runs `fault` (once) in place of, or before, the first DynamoDB call `pick` chooses. */
  const onNext = (pick: (command: string, input: { Item?: Item; Key?: Item }) => boolean, fault: () => Promise<void>): void => {
    let done = false;
    const name = `fault:${Math.random()}`;
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!done && pick(String(context.commandName), args.input as { Item?: Item; Key?: Item })) {
          done = true;
          h.client.middlewareStack.remove(name);
          await fault();
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
  };
  const items = async (): Promise<Item[]> => {
    const found: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await h.client.send(new ScanCommand({ TableName: h.config.tables.deliveries, ExclusiveStartKey: start }));
      found.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  };
  /** Parts no record names: a body no one can read, or a part left behind. */
  const orphanParts = async (): Promise<string[]> => {
    const all = await items();
    const named = new Set(all.filter((i) => i.bodyParts).map((i) => i.token?.S));
    return all.flatMap((i) => (i.pk?.S?.startsWith(BODY_PART_PREFIX) && !named.has(i.pk.S.split('#')[1]) ? [i.pk.S] : []));
  };
  const isPartPut = (command: string, input: { Item?: Item }) =>
    command === 'PutItemCommand' && input.Item?.pk?.S?.startsWith(BODY_PART_PREFIX) === true;
  const isRecordPut = (command: string, input: { Item?: Item }) => command === 'PutItemCommand' && input.Item?.bodyParts !== undefined;
  const storedBody = async (d: ReturnType<typeof signed>) => (await h.store.get('default', d.id, Math.floor(Date.now() / 1000)))?.body;

  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
  });
  afterAll(() => h.close());

  it('a part write throttled: 503 (retryable), no record and no part left, and the retry is stored whole', async () => {
    const d = large();
    onNext(isPartPut, async () => {
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    });
    const res = await h.post('/webhooks/default', d.body, d.headers);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(await storedBody(d)).toBeUndefined();
    expect(await orphanParts()).toEqual([]);
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(202);
    expect((await storedBody(d))?.equals(Buffer.from(d.body))).toBe(true);
  });

  it('the store stopped at the claim, before any part: 503, and the retry once it is back is stored whole', async () => {
    const d = large();
    onNext(isRecordPut, () => h.stopStore());
    const res = await h.post('/webhooks/default', d.body, d.headers);
    await h.startStore();
    expect(res.status).toBe(503);
    expect(await storedBody(d)).toBeUndefined();
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(202);
    expect((await storedBody(d))?.equals(Buffer.from(d.body))).toBe(true);
    expect(await orphanParts()).toEqual([]);
  });

  it('the store stopped after the parts, as the record is marked stored: 503 (never 202), and the retry is stored whole', async () => {
    const d = large();
    onNext(
      (command, input) => command === 'UpdateItemCommand' && input.Key?.pk?.S === `default#${d.id}`,
      () => h.stopStore(),
    );
    const res = await h.post('/webhooks/default', d.body, d.headers);
    await h.startStore();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(202);
    expect((await storedBody(d))?.equals(Buffer.from(d.body))).toBe(true);
  });

  it('the store stopped at the read before the parts: 503, nothing written', async () => {
    const d = large();
    onNext(
      (command, input) => command === 'GetItemCommand' && input.Key?.pk?.S === `default#${d.id}`,
      () => h.stopStore(),
    );
    const res = await h.post('/webhooks/default', d.body, d.headers);
    await h.startStore();
    expect(res.status).toBe(503);
    expect(await items()).toEqual([]);
  });

  it('16 copies at once: one 202, the others in progress (409) or duplicate, the parts written once, the body whole', async () => {
    const d = large();
    const partWrites: string[] = [];
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Item?: Item }).Item?.pk?.S;
        if (context.commandName === 'PutItemCommand' && key?.startsWith(BODY_PART_PREFIX)) partWrites.push(key);
        return next(args);
      },
      { step: 'initialize', name: 'partWrites' },
    );
    let answers: Response[];
    try {
      answers = await Promise.all(Array.from({ length: 16 }, () => h.post('/webhooks/default', d.body, d.headers)));
    } finally {
      h.client.middlewareStack.remove('partWrites');
    }
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 202)) {
      expect([200, 409]).toContain(answer.status);
      // A copy that came while the parts were written waits for them (never 202 for a body not yet whole).
      // Its Retry-After is the storing lease's: the invocation's time (the local server gives 10 s), not a minute.
      if (answer.status === 409) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      if (answer.status === 409) expect(Number(answer.headers.get('retry-after'))).toBeLessThanOrEqual(11);
    }
    // Before: each copy that came before the first record wrote both parts (up to 32 writes), then deleted them.
    expect(partWrites).toHaveLength(2);
    expect(new Set(partWrites.map((key) => key.split('#')[1])).size).toBe(1);
    expect((await storedBody(d))?.equals(Buffer.from(d.body))).toBe(true);
    expect(await orphanParts()).toEqual([]);
    const retry = await h.post('/webhooks/default', d.body, d.headers);
    expect(retry.status).toBe(200);
    expect((await readJson(retry)).status).toBe('duplicate');
  });
});
