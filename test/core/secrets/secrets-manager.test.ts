import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deadlineBound, DeadlineExceededError, withDeadline } from '../../../core/deadline.js';
import { HttpError } from '../../../core/errors.js';
import {
  cachedKeyDocumentProviders,
  MalformedSecretError,
  parseSecretDocument,
  secretsManagerProviders,
} from '../../../core/secrets/secrets-manager.js';

// Secrets Manager has no local server: aws-sdk-client-mock stands in for it.
const sm = mockClient(SecretsManagerClient);
const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hookwarden/default-AbCdEf';
const SOURCE = { kind: 'secretsManager', secretId: SECRET_ID, cacheSeconds: 300 } as const;
const doc = (keys: Array<{ secret: string; notAfter?: number }>) => ({ SecretString: JSON.stringify({ keys }) });
const T0 = 1_800_000_000_000;

describe('secretsManagerProviders', () => {
  let clock = T0;
  const now = () => clock;
  const provider = (options: { retryAfterFailureMs?: number } = {}) =>
    secretsManagerProviders(new SecretsManagerClient({}), { now, ...options })(SOURCE);
  const calls = () => sm.commandCalls(GetSecretValueCommand).length;
  beforeEach(() => {
    sm.reset();
    clock = T0;
  });

  it('reads the secret once per cache period, one request shared by concurrent callers', async () => {
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'a' }]));
    const secrets = provider();
    const answers = await Promise.all(Array.from({ length: 20 }, () => secrets.current()));
    expect(calls()).toBe(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: SECRET_ID });
    expect(new Set(answers).size).toBe(1);
    clock += 299_000;
    await secrets.current();
    expect(calls()).toBe(1);
    clock += 2_000;
    await secrets.current();
    expect(calls()).toBe(2);
  });

  it('returns the same frozen array until the set of valid keys changes', async () => {
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'a' }, { secret: 'b' }]));
    const secrets = provider();
    const first = await secrets.current();
    expect(Object.isFrozen(first)).toBe(true);
    clock += 301_000; // a refresh that finds the same keys
    expect(await secrets.current()).toBe(first);
    expect(calls()).toBe(2);
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'c' }, { secret: 'a' }]));
    clock += 301_000;
    const next = await secrets.current();
    expect(next).not.toBe(first);
    expect(next).toEqual(['c', 'a']);
  });

  // The cache period ended at a time on the clock: after the clock stepped back an hour, a document staged since (the key a
  // provider is about to switch to) went unread for an hour more than the period every rotation waits for.
  it('reads again when the clock has stepped back past its last read, once', async () => {
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'a' }]));
    const secrets = provider();
    await secrets.current();
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'a' }, { secret: 'b' }]));
    clock -= 3_600_000;
    expect(await secrets.current()).toEqual(['a', 'b']);
    expect(calls()).toBe(2);
    clock += 299_000;
    await secrets.current();
    expect(calls()).toBe(2);
  });

  it('drops keys whose notAfter (epoch seconds) has passed, without another read', async () => {
    const expiry = T0 / 1000 + 60;
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'new' }, { secret: 'old', notAfter: expiry }]));
    const secrets = provider();
    expect(await secrets.current()).toEqual(['new', 'old']);
    clock = expiry * 1000 - 1;
    expect(await secrets.current()).toEqual(['new', 'old']);
    clock = expiry * 1000;
    expect(await secrets.current()).toEqual(['new']);
    expect(calls()).toBe(1);
  });

  it('reads again at once when every cached key has expired (a rotation finished early)', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce(doc([{ secret: 'old', notAfter: T0 / 1000 + 60 }]))
      .resolves(doc([{ secret: 'new' }]));
    const secrets = provider();
    expect(await secrets.current()).toEqual(['old']);
    clock += 61_000;
    expect(await secrets.current()).toEqual(['new']);
    expect(calls()).toBe(2);
  });

  it('keeps serving the last good keys when a refresh fails, and retries after the backoff only', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce(doc([{ secret: 'a' }]))
      .rejects(new Error('ThrottlingException'));
    const secrets = provider({ retryAfterFailureMs: 5_000 });
    const first = await secrets.current();
    clock += 301_000;
    expect(await secrets.current()).toBe(first);
    expect(calls()).toBe(2);
    clock += 4_000;
    await Promise.all([secrets.current(), secrets.current()]);
    expect(calls()).toBe(2);
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'b' }]));
    clock += 1_000;
    expect(await secrets.current()).toEqual(['b']);
    expect(calls()).toBe(3);
  });

  it('is stale from a failed refresh (its keys are past their cache period) until a read succeeds', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce(doc([{ secret: 'a' }]))
      .rejectsOnce(new Error('ThrottlingException'))
      .resolvesOnce({ SecretString: '{"keys":[{"secret":"b"}' })
      .resolves(doc([{ secret: 'b' }]));
    const secrets = provider({ retryAfterFailureMs: 5_000 });
    await secrets.current();
    expect(secrets.stale?.()).toBe(false);
    clock += 299_000;
    await secrets.current();
    expect(secrets.stale?.()).toBe(false);
    clock += 2_000;
    expect(await secrets.current()).toEqual(['a']);
    expect(secrets.stale?.()).toBe(true);
    clock += 5_000; // a malformed new version is no better
    expect(await secrets.current()).toEqual(['a']);
    expect(secrets.stale?.()).toBe(true);
    clock += 5_000;
    expect(await secrets.current()).toEqual(['b']);
    expect(secrets.stale?.()).toBe(false);
  });

  it.each([
    ['JSON cut short', '{"keys":[{"secret":"b"}'],
    ['an object without "keys"', '{}'],
    ['only malformed entries', '{"keys":[{"secret":""}]}'],
  ])('keeps serving the last good keys when a new version is malformed (%s)', async (_name, text) => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce(doc([{ secret: 'a' }]))
      .resolves({ SecretString: text });
    const secrets = provider();
    const first = await secrets.current();
    clock += 301_000;
    expect(await secrets.current()).toBe(first);
    expect(secrets.stale?.()).toBe(true);
  });

  // An operator empties the document to stop a source in an emergency. Read as malformed, it left every warm container
  // serving its last good keys until its next cold start: the revocation did not apply.
  it('applies an emptied document {"keys":[]} once the cache period ends: no key is served, every caller gets the 503', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce(doc([{ secret: 'leaked' }]))
      .resolves({ SecretString: '{"keys":[]}' });
    const secrets = provider({ retryAfterFailureMs: 5_000 });
    expect(await secrets.current()).toEqual(['leaked']);
    clock += 299_000;
    expect(await secrets.current()).toEqual(['leaked']);
    clock += 2_000;
    const error = (await secrets.current().catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ statusCode: 503, code: 'unavailable', expose: false, headers: { 'Retry-After': '5' } });
    expect(error.details).toEqual({
      secretId: SECRET_ID,
      problem: 'the secret document lists no key ({"keys":[]}): every delivery is refused until a key is put back',
    });
    // A revocation, not an outage: nothing stale is served, and the document is read again every backoff, not per request.
    expect(secrets.stale?.()).toBe(false);
    expect(calls()).toBe(2);
    await Promise.all([secrets.current().catch(() => undefined), secrets.current().catch(() => undefined)]);
    expect(calls()).toBe(2);
    // A key put back is served within the backoff.
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'fresh' }]));
    clock += 5_000;
    expect(await secrets.current()).toEqual(['fresh']);
    expect(calls()).toBe(3);
  });

  it('applies an emptied document on the first read too (a cold start)', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"keys":[]}' });
    await expect(provider().current()).rejects.toMatchObject({
      statusCode: 503,
      details: { problem: expect.stringMatching(/lists no key/) },
    });
  });

  it('answers 503 with Retry-After and the cause when nothing is cached, without a read per caller', async () => {
    const denied = new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    sm.on(GetSecretValueCommand).rejects(denied);
    const secrets = provider({ retryAfterFailureMs: 5_000 });
    const error = (await secrets.current().catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ statusCode: 503, code: 'unavailable', expose: false, headers: { 'Retry-After': '5' }, cause: denied });
    expect(error.details).toEqual({ secretId: SECRET_ID, problem: 'GetSecretValue failed (ResourceNotFoundException)' });
    await expect(secrets.current()).rejects.toMatchObject({ statusCode: 503 });
    expect(calls()).toBe(1);
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'a' }]));
    clock += 5_000;
    expect(await secrets.current()).toEqual(['a']);
  });

  it.each([
    ['not JSON', 'whsec_plain-text-value-0123'],
    ['no "keys"', '{}'],
    ['an empty secret', '{"keys":[{"secret":""}]}'],
  ])('answers 503 for a malformed document (%s), naming the problem and never the value', async (_name, text) => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: text });
    const error = (await provider()
      .current()
      .catch((e: unknown) => e)) as HttpError;
    expect(error).toMatchObject({ statusCode: 503, code: 'unavailable' });
    expect(error.cause).toBeInstanceOf(MalformedSecretError);
    expect(String(error.details.problem)).toMatch(/JSON|keys/);
    const everything = JSON.stringify({
      message: error.message,
      details: error.details,
      cause: String(error.cause),
      stack: (error.cause as Error).stack,
    });
    expect(everything).not.toContain('plain-text-value');
  });

  it('answers 503 once every key has expired and the secret still lists only expired keys', async () => {
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'old', notAfter: T0 / 1000 + 60 }]));
    const secrets = provider();
    await secrets.current();
    clock += 61_000;
    await expect(secrets.current()).rejects.toMatchObject({
      statusCode: 503,
      details: { problem: 'every key in the secret document has expired' },
    });
  });

  it('serves environment sources as fixed values, without Secrets Manager', async () => {
    const secrets = secretsManagerProviders(new SecretsManagerClient({}))({ kind: 'env', variable: 'WEBHOOK_SECRET', values: ['x', 'y'] });
    expect(await secrets.current()).toEqual(['x', 'y']);
    expect(calls()).toBe(0);
  });

  it('makes a lazily given client on the first Secrets Manager read only, once, and never for environment sources', async () => {
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'a' }]));
    let made = 0;
    const factory = secretsManagerProviders(async () => {
      made += 1;
      return new SecretsManagerClient({});
    });
    const fromEnv = factory({ kind: 'env', variable: 'WEBHOOK_SECRET', values: ['x'] });
    const fromSm = factory(SOURCE);
    const other = factory({ ...SOURCE, secretId: `${SECRET_ID}-other` });
    expect(await fromEnv.current()).toEqual(['x']);
    expect(made).toBe(0);
    await Promise.all([fromSm.current(), other.current(), fromSm.current()]);
    expect(made).toBe(1);
    expect(calls()).toBe(2);
  });
});

describe('secretsManagerProviders with a client made on first use', () => {
  beforeEach(() => sm.reset());

  it('tries again to make a client that failed, after the backoff, instead of failing for good', async () => {
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'a' }]));
    let clock = T0;
    let attempts = 0;
    const secrets = secretsManagerProviders(
      () => {
        attempts += 1;
        if (attempts === 1) throw new Error('no region');
        return new SecretsManagerClient({});
      },
      { now: () => clock, retryAfterFailureMs: 1000 },
    )(SOURCE);
    await expect(secrets.current()).rejects.toMatchObject({ statusCode: 503 });
    clock += 1_001;
    expect(await secrets.current()).toEqual(['a']);
    expect(attempts).toBe(2);
  });
});

describe('a key document read shared by callers with deadlines of their own', () => {
  // The reader is a deadline-bound client whose call fails when its signal aborts, as the SDK's does, and otherwise
  // answers when the test says. Before, the read carried the deadline of the caller that started it.
  it("is not aborted at the first caller's deadline: that caller gets its 503 (not keys that may be outdated), the other the new keys", async () => {
    let clock = T0;
    const signals: Array<AbortSignal | undefined> = [];
    let answer: (text: string) => void = () => undefined;
    const client = deadlineBound({
      send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
        signals.push(options?.abortSignal);
        if (signals.length === 1) return Promise.resolve(JSON.stringify({ keys: [{ secret: 'a' }] }));
        return new Promise<string>((resolve, reject) => {
          answer = resolve;
          options?.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
        });
      },
    });
    const secrets = cachedKeyDocumentProviders(() => client.send({}), { now: () => clock })(SOURCE);
    expect(await secrets.current()).toEqual(['a']);
    clock += 301_000;
    const [first, second] = [new AbortController(), new AbortController()];
    const ofFirst = withDeadline(first.signal, () => secrets.current());
    const ofSecond = withDeadline(second.signal, () => secrets.current());
    first.abort(new DeadlineExceededError(1_000));
    await expect(ofFirst).rejects.toMatchObject({ statusCode: 503, code: 'unavailable', cause: { name: 'DeadlineExceededError' } });
    answer(JSON.stringify({ keys: [{ secret: 'b' }] }));
    expect(await ofSecond).toEqual(['b']);
    expect(signals).toHaveLength(2);
    expect(signals[1]).toBeUndefined();
  });
});

describe('parseSecretDocument', () => {
  it('reads the keys with their optional expiry', () => {
    expect(parseSecretDocument('{"keys":[{"secret":"new"},{"secret":"old","notAfter":1800000000}]}').keys).toEqual([
      { secret: 'new' },
      { secret: 'old', notAfter: 1_800_000_000 },
    ]);
  });

  it('counts the generated top-level secret as a key, next to listed ones', () => {
    expect(parseSecretDocument('{"keys":[],"secret":"generated"}').keys).toEqual([{ secret: 'generated' }]);
    expect(parseSecretDocument('{"keys":[{"secret":"new"}],"secret":"generated"}').keys.map((k) => k.secret)).toEqual(['new', 'generated']);
  });

  it.each([
    undefined,
    '',
    'not json',
    '[]',
    'null',
    '"text"',
    '{}',
    '{"keys":[]}',
    '{"keys":{}}',
    '{"keys":[null]}',
    '{"keys":[{"secret":""}]}',
    '{"keys":[{"secret":7}]}',
    '{"keys":[{"secret":"x","notAfter":"soon"}]}',
    '{"keys":[],"secret":""}',
  ])('refuses %j with a MalformedSecretError', (text) => {
    expect(() => parseSecretDocument(text)).toThrow(MalformedSecretError);
  });

  it('reads an explicit empty list as a document accepting no key only where allowEmpty says so (the serving path)', () => {
    expect(parseSecretDocument('{"keys":[]}', { allowEmpty: true, skipMalformed: true })).toEqual({ keys: [] });
    expect(() => parseSecretDocument('{"keys":[]}')).toThrow(/lists no key/);
    for (const text of ['{}', '{"keys":[],"secret":""}', '{"keys":[{"secret":""}]}'])
      expect(() => parseSecretDocument(text, { allowEmpty: true, skipMalformed: true })).toThrow(MalformedSecretError);
  });
});
