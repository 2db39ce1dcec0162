import { describe, expect, it } from 'vitest';
import { SECURITY_HEADERS, securityHeaders } from '../../../core/middleware/security-headers/index.js';
import { middyRequest } from '../../helpers/middy-request.js';

describe('securityHeaders', () => {
  it.each(['after', 'onError'] as const)('adds nosniff, no-store, HSTS and frame-deny in %s', async (hook) => {
    const req = middyRequest();
    req.response = { statusCode: 401, body: '{}' };
    await securityHeaders()[hook]!(req);
    expect(req.response.headers).toEqual(SECURITY_HEADERS);
  });

  it('keeps a header the response already set, and adds configured ones', async () => {
    const req = middyRequest();
    req.response = { statusCode: 200, body: '', headers: { 'Cache-Control': 'max-age=60' } };
    await securityHeaders({ headers: { 'X-Extra': '1' } }).after!(req);
    expect(req.response.headers).toMatchObject({ 'Cache-Control': 'max-age=60', 'X-Extra': '1', 'X-Content-Type-Options': 'nosniff' });
  });

  it('does nothing without a response', async () => {
    const req = middyRequest();
    await securityHeaders().after!(req);
    expect(req.response).toBeUndefined();
  });
});
