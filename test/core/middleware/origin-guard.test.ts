import { describe, expect, it } from 'vitest';
import { originGuard } from '../../../core/middleware/origin-guard/index.js';
import { middyRequest } from '../../helpers/middy-request.js';

const ALLOWED = 'https://app.example.com';
const guard = originGuard({ origins: [ALLOWED] });
const get = (multiValueHeaders: Record<string, string[]>) =>
  middyRequest({ httpMethod: 'GET', path: '/events', resource: '/events', multiValueHeaders });

describe('originGuard', () => {
  it('lets a request without Origin through (curl, the command line: not a browser)', async () => {
    await expect(guard.before!(get({}))).resolves.toBeUndefined();
  });

  it('lets exactly a configured origin through', async () => {
    await expect(guard.before!(get({ Origin: [ALLOWED] }))).resolves.toBeUndefined();
  });

  it.each([
    ['another origin', ['https://evil.example']],
    ['a near miss: trailing slash', [`${ALLOWED}/`]],
    ['a near miss: other scheme', ['http://app.example.com']],
    ['a near miss: other case', ['https://APP.example.com']],
    ['a near miss: other port', [`${ALLOWED}:8443`]],
    ['the opaque origin', ['null']],
    ['two Origin values, one allowed', [ALLOWED, 'https://evil.example']],
  ])('refuses %s with 403 origin_denied', async (_, values) => {
    await expect(guard.before!(get({ Origin: values }))).rejects.toMatchObject({ statusCode: 403, code: 'origin_denied' });
  });

  it('allows no browser origin at all when none is configured', async () => {
    await expect(originGuard({ origins: [] }).before!(get({ Origin: [ALLOWED] }))).rejects.toMatchObject({ code: 'origin_denied' });
  });

  it('refuses a wildcard in its configuration', () => {
    expect(() => originGuard({ origins: ['*'] })).toThrow(/exact/);
  });
});
