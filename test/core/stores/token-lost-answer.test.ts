import { describe, expect, it } from 'vitest';
import { TOKENS_TABLE } from '../../../core/stores/tables.js';
import { DynamoDbTokenStore, generateToken } from '../../../core/stores/token-store.js';
import { dropAnswers, storeForFaults } from '../../helpers/lost-answer.js';

const NOW = 1_800_000_000;

describe('a token write whose first answer is lost on the way back (the SDK sends it again)', () => {
  const stores = storeForFaults();

  const faulty = (command: string) => {
    const client = stores.client();
    const fault = dropAnswers(client, command);
    return { store: new DynamoDbTokenStore({ client, tableName: TOKENS_TABLE.localName }), fault };
  };
  const honest = () => new DynamoDbTokenStore({ client: stores.local().client, tableName: TOKENS_TABLE.localName });

  it('create: the token it wrote is created, not a failure that leaves a live token nobody was shown', async () => {
    const { store, fault } = faulty('PutItemCommand');
    const { id, hash } = generateToken();
    // Before: the retry's attribute_not_exists failed on our own item, and `token create` failed without printing the token.
    await expect(
      store.create({ id, name: 'ci', sources: ['default'], createdAt: NOW, expiresAt: NOW + 60 }, hash),
    ).resolves.toBeUndefined();
    expect(fault.dropped()).toBe(1);
    expect(await honest().find(id, hash)).toMatchObject({ id, name: 'ci' });
  });

  it('create: another token under the same id (another hash) is still a failure', async () => {
    const { id, hash } = generateToken();
    await honest().create({ id, name: 'first', sources: [], createdAt: NOW, expiresAt: NOW + 60 }, hash);
    const { store } = faulty('PutItemCommand');
    const other = generateToken();
    await expect(store.create({ id, name: 'second', sources: [], createdAt: NOW, expiresAt: NOW + 60 }, other.hash)).rejects.toThrow();
    expect(await honest().find(id, hash)).toMatchObject({ name: 'first' });
  });

  it('revoke: the token it revoked is reported revoked, not "no active token"', async () => {
    const { id, hash } = generateToken();
    await honest().create({ id, name: 'ci', sources: [], createdAt: NOW, expiresAt: NOW + 60 }, hash);
    const { store, fault } = faulty('UpdateItemCommand');
    // Before: false, and `token revoke` exited 1 with "no active token" for a token it had just revoked.
    expect(await store.revoke(id, NOW + 5)).toBe(true);
    expect(fault.dropped()).toBe(1);
    expect(await honest().find(id, hash)).toMatchObject({ revokedAt: NOW + 5 });
  });

  it('revoke: a token revoked before, or never created, is still not revoked again', async () => {
    const { id, hash } = generateToken();
    await honest().create({ id, name: 'ci', sources: [], createdAt: NOW, expiresAt: NOW + 60 }, hash);
    expect(await honest().revoke(id, NOW + 1)).toBe(true);
    const { store } = faulty('UpdateItemCommand');
    expect(await store.revoke(id, NOW + 5)).toBe(false);
    expect(await store.revoke(generateToken().id, NOW + 5)).toBe(false);
    expect(await honest().find(id, hash)).toMatchObject({ revokedAt: NOW + 1 });
  });
});
