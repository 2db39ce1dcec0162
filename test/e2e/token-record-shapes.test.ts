import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS_TABLE } from '../../core/stores/tables.js';
import { generateToken } from '../../core/stores/token-store.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';

/**
 * A token item edited by hand (the DynamoDB console, `aws dynamodb update-item`) holds its attributes in shapes the
 * CLI never writes. The scope and the revocation fail closed: never read as every source, never as not revoked.
 */
describe('read tokens whose stored item is not in the shape token create writes', () => {
  let h: ReaderHarness;

  beforeAll(async () => {
    h = await startReaderHarness({ tokenCacheMs: 0 });
    expect((await h.deliver('default')).status).toBe(202);
  });
  afterAll(() => h.close());

  /** Writes a token item for `billing` only, then applies `changes` as a person editing the item would. */
  const tokenWith = async (changes: Record<string, AttributeValue | undefined>): Promise<{ token: string; id: string }> => {
    const { token, id, hash } = generateToken();
    const now = Math.floor(Date.now() / 1000);
    const item: Record<string, AttributeValue> = {
      pk: { S: `token#${id}` },
      id: { S: id },
      hash: { S: hash },
      name: { S: 'edited' },
      sources: { L: [{ S: 'billing' }] },
      createdAt: { N: String(now) },
      expiresAt: { N: String(now + 3600) },
    };
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) delete item[name];
      else item[name] = value;
    }
    await h.client.send(new PutItemCommand({ TableName: TOKENS_TABLE.localName, Item: item }));
    return { token, id };
  };

  it('the item as token create writes it: billing only (403 token_scope for default)', async () => {
    const { token } = await tokenWith({});
    expect((await h.get('/deliveries?source=billing', token)).status).toBe(200);
    expect((await h.get('/deliveries?source=default', token)).status).toBe(403);
  });

  it.each<[string, AttributeValue | undefined]>([
    ['a string set', { SS: ['billing'] }],
    ['a string', { S: 'billing' }],
    ['a list holding a number', { L: [{ S: 'billing' }, { N: '1' }] }],
    ['no sources attribute', undefined],
  ])('sources as %s: 401 token_invalid on every route, never every source', async (_, sources) => {
    const { token, id } = await tokenWith({ sources });
    for (const path of ['/deliveries?source=default', '/deliveries', '/deliveries/default/x', '/events?source=default']) {
      const res = await h.get(path, token);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('token_invalid');
    }
    const listed = (await h.tokens.list()).find((record) => record.id === id);
    expect(listed?.malformed).toMatch(/sources/);
  });

  it.each<[string, AttributeValue]>([
    ['a string', { S: '2026-12-01T00:00:00Z' }],
    ['NULL', { NULL: true }],
    ['a boolean', { BOOL: true }],
  ])('revokedAt as %s revokes the token: 401 token_invalid', async (_, revokedAt) => {
    const { token, id } = await tokenWith({ revokedAt, sources: { L: [] } });
    const res = await h.get('/deliveries', token);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('token_invalid');
    expect((await h.tokens.list()).find((record) => record.id === id)?.revokedAt).toBeDefined();
  });
});
