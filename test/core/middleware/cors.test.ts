import { describe, expect, it } from 'vitest';
import { corsPolicy, preflightHandler } from '../../../core/middleware/cors/index.js';
import { middyRequest } from '../../helpers/middy-request.js';

const ORIGIN = 'https://app.example.com';

/** A request from `origin` (if any) whose answer is `response`. */
const answered = (origin?: string, responseHeaders: Record<string, string> = {}) => {
  const req = middyRequest({ headers: origin ? { Origin: origin } : {} });
  req.response = { statusCode: 202, body: '', headers: responseHeaders };
  return req;
};

describe('corsPolicy', () => {
  it.each(['after', 'onError'] as const)('echoes an exactly configured origin, with the defaults, in %s', async (hook) => {
    const req = answered(ORIGIN);
    await corsPolicy({ origins: [ORIGIN] })[hook]!(req);
    expect(req.response!.headers).toEqual({
      'Access-Control-Allow-Origin': ORIGIN,
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': 'content-type, webhook-id, webhook-timestamp, webhook-signature',
      'Access-Control-Max-Age': '600',
      Vary: 'Origin',
    });
  });

  it.each([undefined, 'https://evil.example.com', `${ORIGIN}.evil.com`, 'null', `${ORIGIN}/`])(
    'allows no other origin (%s), and still varies on Origin',
    async (origin) => {
      const req = answered(origin);
      await corsPolicy({ origins: [ORIGIN] }).after!(req);
      expect(req.response!.headers).not.toHaveProperty('Access-Control-Allow-Origin');
      expect(req.response!.headers?.Vary).toBe('Origin');
    },
  );

  it('allows no origin until configured', async () => {
    const req = answered(ORIGIN);
    await corsPolicy({ origins: [] }).after!(req);
    expect(req.response!.headers).not.toHaveProperty('Access-Control-Allow-Origin');
  });

  it('refuses a wildcard origin at cold start', () => {
    expect(() => corsPolicy({ origins: ['*'] })).toThrow(/exact/);
  });

  it('adds Origin to an existing Vary once, whatever its case', async () => {
    const req = answered(ORIGIN, { vary: 'Accept-Encoding' });
    await corsPolicy({ origins: [ORIGIN] }).after!(req);
    expect(req.response!.headers?.vary).toBe('Accept-Encoding, Origin');
    expect(req.response!.headers).not.toHaveProperty('Vary');
  });

  it('takes configured methods, headers and max age over the defaults, an undefined one keeping its default', async () => {
    const req = answered(ORIGIN);
    await corsPolicy({ origins: [ORIGIN], methods: ['POST'], headers: undefined, maxAgeSeconds: 60 }).after!(req);
    expect(req.response!.headers).toMatchObject({
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': 'content-type, webhook-id, webhook-timestamp, webhook-signature',
      'Access-Control-Max-Age': '60',
    });
  });
});

describe('preflightHandler', () => {
  const preflight = preflightHandler({ origins: [ORIGIN] });
  const ask = (headers: Record<string, string>) => preflight(middyRequest({ httpMethod: 'OPTIONS', headers }).event);

  it('answers an allowed preflight with 204', async () => {
    await expect(
      ask({ Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'Content-Type, Webhook-Signature' }),
    ).resolves.toMatchObject({ statusCode: 204 });
  });

  it.each([
    ['an unknown origin', { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' }],
    ['no origin', { 'Access-Control-Request-Method': 'POST' }],
    ['a method not allowed', { Origin: ORIGIN, 'Access-Control-Request-Method': 'DELETE' }],
    ['no method', { Origin: ORIGIN }],
    [
      'a header not allowed',
      { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, authorization' },
    ],
  ])('refuses %s with 403 cors_preflight_denied', async (_case, headers) => {
    await expect(ask(headers)).rejects.toMatchObject({ statusCode: 403, code: 'cors_preflight_denied' });
  });
});
