import { describe, expect, it } from 'vitest';
import { DuplicateDeliveryError, HttpError } from '../../../core/errors.js';
import { errorResponder } from '../../../core/middleware/error-responder/index.js';
import { middyRequest } from '../../helpers/middy-request.js';

/** A request whose handler or an earlier middleware threw `error`. */
const failed = (error: unknown) => {
  const req = middyRequest();
  req.error = error as Error;
  return req;
};
const bodyOf = (req: ReturnType<typeof failed>) => JSON.parse(req.response!.body) as { error: Record<string, unknown> };

describe('errorResponder', () => {
  it('answers an HttpError with its status, code, headers and the request id', async () => {
    const req = failed(new HttpError(429, 'rate_limited', 'Too many deliveries; retry later.', { headers: { 'Retry-After': '7' } }));
    await errorResponder().onError!(req);
    expect(req.response).toMatchObject({ statusCode: 429, headers: { 'Content-Type': 'application/json', 'Retry-After': '7' } });
    expect(bodyOf(req)).toEqual({
      error: { code: 'rate_limited', message: 'Too many deliveries; retry later.', requestId: 'api-request-1' },
    });
  });

  it('answers a duplicate delivery with 200 duplicate and its id', async () => {
    const req = failed(new DuplicateDeliveryError('msg_1'));
    await errorResponder().onError!(req);
    expect(req.response?.statusCode).toBe(200);
    expect(JSON.parse(req.response!.body)).toEqual({ status: 'duplicate', id: 'msg_1' });
  });

  it.each([
    ['by default', {}],
    ['with production: undefined', { production: undefined }],
    ['in production', { production: true }],
  ])('hides an unknown error behind 500 internal_error %s', async (_case, options) => {
    const req = failed(new Error('connect ECONNREFUSED 10.1.2.3:443 secret-table'));
    await errorResponder(options).onError!(req);
    expect(req.response?.statusCode).toBe(500);
    expect(req.response!.body).not.toContain('ECONNREFUSED');
    expect(bodyOf(req).error).toMatchObject({ code: 'internal_error', message: 'Internal server error.' });
  });

  it('leaves a response another middleware already set', async () => {
    const req = failed(new Error('x'));
    req.response = { statusCode: 204, body: '' };
    await errorResponder().onError!(req);
    expect(req.response).toEqual({ statusCode: 204, body: '' });
  });
});
