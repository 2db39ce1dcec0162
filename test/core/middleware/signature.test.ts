import { describe, expect, it } from 'vitest';
import { headerMapFromEvent } from '../../../core/headers.js';
import { signatureVerifier } from '../../../core/middleware/signature/index.js';
import { environmentSecretProviders, staticSecrets } from '../../../core/secrets/index.js';
import { middyRequest, sourcesFrom } from '../../helpers/middy-request.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';
import { standardWebhooksHeaders } from '../../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const sources = sourcesFrom({ WEBHOOK_SECRET: SECRET });
const NOW = 1_800_000_000_000;
const verifier = (now = () => NOW) => signatureVerifier({ sources, secretProviders: environmentSecretProviders, now });

/** A request as the verifier sees it: source, headers and raw body set by the earlier middlewares. */
const request = (headers: Record<string, string>, body: string) => {
  const req = middyRequest({ headers, body });
  req.context.hookwarden.source = sources.get('default');
  req.context.hookwarden.headers = headerMapFromEvent(req.event);
  req.context.hookwarden.body = Buffer.from(body);
  return req;
};

/** One valid signed delivery; each test breaks exactly one thing. */
const valid = (at = new Date(NOW), id = 'msg_sig_1', body = '{"type":"invoice.paid"}') => ({
  headers: standardWebhooksHeaders(SECRET, id, at, body),
  body,
});

describe('signatureVerifier', () => {
  it('accepts an authentic, fresh delivery and records it', async () => {
    const d = valid();
    const req = request(d.headers, d.body);
    await verifier().before!(req);
    expect(req.context.hookwarden.delivery).toMatchObject({ ok: true, deliveryId: 'msg_sig_1' });
  });

  it.each([
    ['a body changed by one byte', (d: ReturnType<typeof valid>) => ({ ...d, body: `${d.body} ` }), 'signature_invalid'],
    [
      'another secret',
      (d: ReturnType<typeof valid>) => ({
        ...d,
        headers: standardWebhooksHeaders(TEST_SECRETS.standardWebhooksSecond, 'msg_sig_1', new Date(NOW), d.body),
      }),
      'signature_invalid',
    ],
    [
      'no signature header',
      (d: ReturnType<typeof valid>) => ({ ...d, headers: { ...d.headers, 'webhook-signature': '' } }),
      'signature_invalid',
    ],
    [
      'a malformed timestamp',
      (d: ReturnType<typeof valid>) => ({ ...d, headers: { ...d.headers, 'webhook-timestamp': 'soon' } }),
      'timestamp_invalid',
    ],
  ])('refuses %s with 401', async (_case, breakIt, code) => {
    const d = breakIt(valid());
    const req = request(d.headers, d.body);
    await expect(verifier().before!(req)).rejects.toMatchObject({ statusCode: 401, code });
    expect(req.context.hookwarden.delivery).toBeUndefined();
  });

  it.each([-1, 1])('refuses a timestamp outside the window (%i × 301 s) with 401 timestamp_out_of_range', async (sign) => {
    const d = valid(new Date(NOW + sign * 301_000));
    await expect(verifier().before!(request(d.headers, d.body))).rejects.toMatchObject({ statusCode: 401, code: 'timestamp_out_of_range' });
  });

  it('reads the clock from Date.now by default, also when `now` is passed as undefined', async () => {
    const d = valid(new Date());
    await expect(
      signatureVerifier({ sources, secretProviders: environmentSecretProviders, now: undefined }).before!(request(d.headers, d.body)),
    ).resolves.toBeUndefined();
  });

  it('answers 503 with Retry-After when no key of the source is usable', async () => {
    const d = valid();
    const noKeys = signatureVerifier({ sources, secretProviders: () => staticSecrets([]), now: () => NOW });
    await expect(noKeys.before!(request(d.headers, d.body))).rejects.toMatchObject({
      statusCode: 503,
      code: 'unavailable',
      headers: { 'Retry-After': '5' },
    });
  });

  it('refuses at cold start a source without a secret', () => {
    const source = { ...sources.get('default')!, secret: undefined };
    expect(() =>
      signatureVerifier({ sources: new Map([['default', source as never]]), secretProviders: environmentSecretProviders }),
    ).toThrow(/no secret/);
  });
});
