import { statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS_TABLE } from '../../../core/stores/tables.js';
import { TokenCache } from '../../../core/stores/token-cache.js';
import { DynamoDbTokenStore, generateToken, hashToken, TOKEN_FORMAT, type TokenStore } from '../../../core/stores/token-store.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { developmentTokenPath, ensureDevelopmentToken, readDevelopmentToken } from '../../../local/dev-token.js';
import { countCalls, emptyDir } from '../../helpers/harness.js';

describe('read tokens on dynalite', () => {
  let local: LocalStore;
  let store: DynamoDbTokenStore;
  const now = 1_800_000_000;

  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbTokenStore({ client: local.client, tableName: TOKENS_TABLE.localName });
  });
  afterAll(() => local.close());

  it('generates hwk_ tokens with 32 random bytes, and stores only their hash', async () => {
    const { token, id, hash } = generateToken();
    expect(token).toMatch(TOKEN_FORMAT);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(generateToken().token).not.toBe(token);
    await store.create({ id, name: 'ci', sources: ['default'], createdAt: now, expiresAt: now + 60 }, hash);
    const listed = await store.list();
    expect(listed.find((r) => r.id === id)).toMatchObject({ name: 'ci', sources: ['default'], expiresAt: now + 60 });
    expect(JSON.stringify(listed)).not.toContain(token.slice(4));
    expect(await store.find(id, hash)).toMatchObject({ id });
    // Same id (prefix), different hash: refused.
    expect(await store.find(id, hashToken(`${token}x`).hash)).toBeUndefined();
  });

  it('a cached lookup sees a revocation within 15 s, an expiry at once, and never asks the store about a malformed token', async () => {
    let clock = now * 1000;
    const counted = countCalls(local.client);
    const cache = new TokenCache({ store, now: () => clock });
    const { token, id, hash } = generateToken();
    await store.create({ id, name: 'tail', sources: [], createdAt: now, expiresAt: now + 100 }, hash);
    expect(await cache.verify(token)).toMatchObject({ id });
    const before = counted.count();
    expect(await cache.verify('hwk_short')).toBeUndefined();
    expect(await cache.verify('Bearer whatever')).toBeUndefined();
    expect(counted.count()).toBe(before);
    expect(await store.revoke(id, now + 1)).toBe(true);
    expect(await store.revoke(id, now + 2)).toBe(false);
    clock += 14_000;
    expect(await cache.verify(token)).toBeDefined(); // still cached: at most 15 s
    clock += 1_000;
    expect(await cache.verify(token)).toBeUndefined();
    const other = generateToken();
    await store.create({ id: other.id, name: 'short', sources: [], createdAt: now, expiresAt: now + 20 }, other.hash);
    expect(await cache.verify(other.token)).toBeDefined();
    clock = (now + 20) * 1000;
    expect(await cache.verify(other.token)).toBeUndefined();
  });

  it('sees a revocation within 15 s after the clock steps back, not after the step', async () => {
    // The lookup's age was the clock's difference: after a step back of an hour, a revoked token stayed valid for an hour.
    let clock = now * 1000;
    const cache = new TokenCache({ store, now: () => clock });
    const { token, id, hash } = generateToken();
    await store.create({ id, name: 'stepped', sources: [], createdAt: now, expiresAt: now + 7200 }, hash);
    expect(await cache.verify(token)).toMatchObject({ id });
    clock -= 3_600_000;
    expect(await store.revoke(id, now - 3600)).toBe(true);
    expect(await cache.verify(token)).toBeUndefined();
  });

  it('keeps a real token cached through a flood of made-up ones', async () => {
    // One cache for both: each made-up token (one store lookup, which nothing can refuse earlier) pushed out a real one,
    // so a flood made every real request a store read as well.
    const clock = now * 1000;
    let lookups = 0;
    const counted: TokenStore = Object.assign(Object.create(store) as TokenStore, {
      find: (id: string, hash: string) => ((lookups += 1), store.find(id, hash)),
      touch: (id: string, at: number) => store.touch(id, at),
    });
    const cache = new TokenCache({ store: counted, now: () => clock, maxEntries: 3 });
    const { token, id, hash } = generateToken();
    await store.create({ id, name: 'flooded', sources: [], createdAt: now, expiresAt: now + 100 }, hash);
    expect(await cache.verify(token)).toMatchObject({ id });
    for (let i = 0; i < 10; i++) expect(await cache.verify(generateToken().token)).toBeUndefined();
    expect(lookups).toBe(11);
    expect(await cache.verify(token)).toMatchObject({ id });
    expect(lookups).toBe(11);
  });

  it('records the last use at most once a minute', async () => {
    let clock = now * 1000;
    const cache = new TokenCache({ store, now: () => clock, maxAgeMs: 1 });
    const { token, id, hash } = generateToken();
    await store.create({ id, name: 'used', sources: [], createdAt: now, expiresAt: now + 1000 }, hash);
    await cache.verify(token);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await store.find(id, hash))?.lastUsedAt).toBe(now);
    clock += 30_000;
    await cache.verify(token);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await store.find(id, hash))?.lastUsedAt).toBe(now);
    clock += 30_000;
    await cache.verify(token);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await store.find(id, hash))?.lastUsedAt).toBe(now + 60);
  });

  it('keeps a development token in a 0600 file, reused while live, replaced once revoked or tampered with', async () => {
    const dir = emptyDir();
    const first = await ensureDevelopmentToken(dir, store);
    expect(first).toMatch(TOKEN_FORMAT);
    expect(statSync(developmentTokenPath(dir)).mode & 0o777).toBe(0o600);
    expect(await ensureDevelopmentToken(dir, store)).toBe(first);
    await store.revoke(hashToken(first).id, Math.floor(Date.now() / 1000));
    const second = await ensureDevelopmentToken(dir, store);
    expect(second).not.toBe(first);
    expect(readDevelopmentToken(dir)).toBe(second);
    writeFileSync(developmentTokenPath(dir), 'hwk_tampered');
    expect(await ensureDevelopmentToken(dir, store)).not.toBe(second);
  });
});
