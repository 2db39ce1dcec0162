import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { github } from '../../../core/schemes/index.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';
import { expectRefused, flipByte, signatureParts, verifyWith, signedIdOf } from './fixtures.js';

const SECRET = TEST_SECRETS.github;
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
// Published vector (GitHub's "Validating webhook deliveries"), see webhook-schemes.md.
const VECTOR = { body: 'Hello, World!', signature: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };

/** The one valid delivery, signed by Octokit; each test breaks one thing. */
const valid = async (secret: string = SECRET) => ({
  'X-GitHub-Delivery': DELIVERY,
  'X-GitHub-Event': 'ping',
  'X-GitHub-Hook-ID': '1',
  'X-Hub-Signature-256': await octokitSign(secret, body),
});

describe('github: accepted', () => {
  it("the published vector; the replay key is the signed bytes' hash, never the MAC", () => {
    expect(verifyWith(github, [SECRET], { 'X-Hub-Signature-256': VECTOR.signature }, VECTOR.body)).toEqual({
      ok: true,
      deliveryId: signedIdOf(VECTOR.body),
    });
  });

  it('a delivery signed by @octokit/webhooks-methods; the unsigned X-GitHub-Delivery is only displayed', async () => {
    expect(verifyWith(github, [SECRET], await valid(), body)).toEqual({
      ok: true,
      deliveryId: signedIdOf(body),
      providerId: DELIVERY,
      eventType: 'ping',
    });
  });

  it('a replay under a fresh X-GitHub-Delivery has the same replay key', async () => {
    const first = verifyWith(github, [SECRET], await valid(), body);
    const replay = verifyWith(github, [SECRET], { ...(await valid()), 'X-GitHub-Delivery': 'a-fresh-id-chosen-by-the-attacker' }, body);
    expect(replay.ok && first.ok && replay.deliveryId === first.deliveryId).toBe(true);
  });

  it('either of two secrets (Octokit calls it verify with fallback)', async () => {
    expect(verifyWith(github, ['the old secret', SECRET], await valid(), body).ok).toBe(true);
    expect(verifyWith(github, [SECRET, 'the new secret'], await valid(), body).ok).toBe(true);
  });

  it('any of several signature header values', async () => {
    const headers = await valid();
    const wrong = await octokitSign('the old secret', body);
    expect(
      verifyWith(github, [SECRET], { ...headers, 'X-Hub-Signature-256': ['sha256=zz', wrong, headers['X-Hub-Signature-256']] }, body).ok,
    ).toBe(true);
  });

  it('is not timestamped: an old delivery still verifies (the delivery id guards replays)', async () => {
    expect(verifyWith(github, [SECRET], await valid(), body, 0).ok).toBe(true);
  });
});

describe('github: refused', () => {
  const leaks = async () => [SECRET, ...signatureParts((await valid())['X-Hub-Signature-256'])];

  it.each([
    ['wrong secret', async () => verifyWith(github, ['nope'], await valid(), body)],
    ['one flipped body byte', async () => verifyWith(github, [SECRET], await valid(), flipByte(body, 3))],
    ['no signature header', async () => verifyWith(github, [SECRET], { 'X-GitHub-Delivery': DELIVERY }, body)],
    ['the SHA-1 header only', async () => verifyWith(github, [SECRET], { 'X-Hub-Signature': 'sha1=abc' }, body)],
    [
      'no sha256= prefix',
      async () =>
        verifyWith(github, [SECRET], { ...(await valid()), 'X-Hub-Signature-256': (await valid())['X-Hub-Signature-256'].slice(7) }, body),
    ],
    ['a garbled signature', async () => verifyWith(github, [SECRET], { ...(await valid()), 'X-Hub-Signature-256': 'sha256=zz' }, body)],
    [
      'a signature of another length',
      async () => verifyWith(github, [SECRET], { ...(await valid()), 'X-Hub-Signature-256': 'sha256=abcd' }, body),
    ],
    [
      'a delivery id with a space',
      async () => verifyWith(github, [SECRET], { ...(await valid()), 'X-GitHub-Delivery': 'has space' }, body),
    ],
    [
      'a delivery id of 257 characters',
      async () => verifyWith(github, [SECRET], { ...(await valid()), 'X-GitHub-Delivery': 'd'.repeat(257) }, body),
    ],
    ['two different delivery ids', async () => verifyWith(github, [SECRET], { ...(await valid()), 'X-GitHub-Delivery': ['a', 'b'] }, body)],
  ])('%s', async (_name, run) => {
    expectRefused(await run(), 'signature_invalid', await leaks());
  });

  it('names a malformed delivery header in the reason', async () => {
    expect(verifyWith(github, [SECRET], { ...(await valid()), 'X-GitHub-Delivery': '' }, body)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('x-github-delivery'),
    });
  });
});

describe('github: secrets and sign', () => {
  it('keeps the secret as UTF-8; refuses an empty one or a pasted signature', () => {
    expect(github.decodeSecret(SECRET)).toEqual(Buffer.from(SECRET, 'utf8'));
    expect(() => github.decodeSecret('')).toThrow(/empty/);
    expect(() => github.decodeSecret(VECTOR.signature)).toThrow(/signature/);
  });

  it('signs what Octokit signs and verifies, with a UUID delivery id by default', async () => {
    const sent = github.sign(SECRET, { body: Buffer.from(body) });
    expect(sent['X-Hub-Signature-256']).toBe(await octokitSign(SECRET, body));
    expect(await octokitVerify(SECRET, body, sent['X-Hub-Signature-256'] as string)).toBe(true);
    expect(sent['X-GitHub-Delivery']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(github.keptHeaders).toEqual(
      expect.arrayContaining(['content-type', 'user-agent', 'x-github-event', 'x-github-delivery', 'x-github-hook-id']),
    );
  });
});
