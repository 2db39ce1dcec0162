import { describe, expect, it } from 'vitest';
import { READ_TOKEN_REFUSAL_CODES } from '../../../core/errors.js';
import { readToken, requireScope } from '../../../core/middleware/read-token/index.js';
import { readerStateOf } from '../../../core/reader/state.js';
import type { RateDecision, RateLimiter } from '../../../core/stores/rate-limit-store.js';
import { TokenCache } from '../../../core/stores/token-cache.js';
import { generateToken, hashToken, type TokenRecord, type TokenStore } from '../../../core/stores/token-store.js';
import { middyRequest } from '../../helpers/middy-request.js';

const NOW = 1_800_000_000_000;

/** The token store's contract in memory: what the middleware sees through the cache (the DynamoDB store has its own tests). */
class MemoryTokens implements TokenStore {
  readonly records = new Map<string, { record: TokenRecord; hash: string }>();
  async create(record: TokenRecord, hash: string) {
    this.records.set(record.id, { record, hash });
  }
  async find(id: string, hash: string) {
    const found = this.records.get(id);
    return found && found.hash === hash ? found.record : undefined;
  }
  async list() {
    return [...this.records.values()].map((r) => r.record);
  }
  async revoke(id: string, nowSeconds: number) {
    const found = this.records.get(id);
    if (!found) return false;
    found.record = { ...found.record, revokedAt: nowSeconds };
    return true;
  }
  async touch() {}
}

/** Admits `limit` hits per key, then refuses: the decision shape of the DynamoDB limiter. */
const countingLimiter = (limit: number): RateLimiter & { keys: string[] } => {
  const counts = new Map<string, number>();
  const keys: string[] = [];
  return {
    keys,
    async hit(key, rate): Promise<RateDecision> {
      keys.push(key);
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      const admitted = n <= limit;
      return {
        admitted,
        limit: rate.limit,
        windowSeconds: rate.windowSeconds,
        remaining: admitted ? limit - n : 0,
        retryAfterSeconds: admitted ? 0 : 7,
        undo: async () => undefined,
      };
    },
  };
};

const setup = async (record: Partial<TokenRecord> = {}) => {
  const store = new MemoryTokens();
  const { token, id, hash } = generateToken();
  await store.create({ id, name: 'ci', sources: [], createdAt: NOW / 1000 - 60, expiresAt: NOW / 1000 + 3600, ...record }, hash);
  const tokens = new TokenCache({ store, now: () => NOW });
  return { store, token, id, tokens };
};
const get = (headers: Record<string, string[]>) =>
  middyRequest({ httpMethod: 'GET', path: '/deliveries', resource: '/deliveries', multiValueHeaders: headers });

describe('readToken', () => {
  it('puts the token record in the reader state for a valid bearer token', async () => {
    const { token, id, tokens } = await setup();
    const req = get({ Authorization: [`Bearer ${token}`] });
    await readToken({ tokens, now: () => NOW }).before!(req);
    expect(readerStateOf(req.context).token).toMatchObject({ id, name: 'ci' });
  });

  it.each([
    ['no Authorization header', {}],
    ['another scheme', { Authorization: ['Basic dXNlcjpwYXNz'] }],
    ['two Authorization headers', { Authorization: ['Bearer hwk_a', 'Bearer hwk_b'] }],
    ['an empty bearer', { Authorization: ['Bearer '] }],
  ])('answers %s with 401 token_missing and WWW-Authenticate', async (_, headers) => {
    const { tokens } = await setup();
    await expect(readToken({ tokens, now: () => NOW }).before!(get(headers))).rejects.toMatchObject({
      statusCode: 401,
      code: 'token_missing',
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  });

  it.each([
    ['an unknown token', async () => ({ ...(await setup()), token: generateToken().token })],
    ['a malformed token', async () => ({ ...(await setup()), token: 'hwk_short' })],
    ['an expired token', () => setup({ expiresAt: NOW / 1000 - 1 })],
    ['a revoked token', () => setup({ revokedAt: NOW / 1000 - 1 })],
  ])('answers %s with 401 token_invalid, one answer for all', async (_, given) => {
    const { token, tokens } = await given();
    await expect(readToken({ tokens, now: () => NOW }).before!(get({ Authorization: [`Bearer ${token}`] }))).rejects.toMatchObject({
      statusCode: 401,
      code: 'token_invalid',
    });
  });

  it('refuses a missing or bad token only with the codes the CDK alarm sums (READ_TOKEN_REFUSAL_CODES)', async () => {
    const { tokens } = await setup();
    const codes = new Set<string>();
    const cases: Record<string, string[]>[] = [
      {},
      { Authorization: ['Bearer hwk_short'] },
      { Authorization: [`Bearer ${generateToken().token}`] },
    ];
    for (const headers of cases) {
      const refused = await readToken({ tokens, now: () => NOW }).before!(get(headers)).then(
        () => undefined,
        (error: { code: string }) => error,
      );
      codes.add((refused as { code: string }).code);
    }
    expect([...codes].sort()).toEqual([...READ_TOKEN_REFUSAL_CODES].sort());
  });

  it('counts each request against the token id (never the token), and answers 429 with the webhook route headers over the limit', async () => {
    const { token, id, tokens } = await setup();
    const limiter = countingLimiter(2);
    const middleware = readToken({ tokens, rateLimiter: limiter, rate: { limit: 2, windowSeconds: 60 }, now: () => NOW });
    const req = () => get({ Authorization: [`Bearer ${token}`] });
    await middleware.before!(req());
    await middleware.before!(req());
    await expect(middleware.before!(req())).rejects.toMatchObject({
      statusCode: 429,
      code: 'rate_limited',
      headers: { 'Retry-After': '7', 'RateLimit-Policy': '"api";q=2;w=60', RateLimit: '"api";r=0;t=7' },
    });
    expect(limiter.keys).toEqual([`token:${id}`, `token:${id}`, `token:${id}`]);
    expect(limiter.keys.join()).not.toContain(token);
    expect(hashToken(token).id).toBe(id);
  });
});

describe('requireScope', () => {
  it('lets a token without sources read every source, and a scoped one only its own', () => {
    expect(() => requireScope([], 'stripe')).not.toThrow();
    expect(() => requireScope(['stripe'], 'stripe')).not.toThrow();
    expect(() => requireScope(['stripe'], 'github')).toThrow(expect.objectContaining({ statusCode: 403, code: 'token_scope' }));
  });
});
