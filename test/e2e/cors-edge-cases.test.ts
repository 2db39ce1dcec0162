import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { rawRequest, type RawAnswer } from '../helpers/raw-http.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const APP = 'https://app.example.com';
const ADMIN = 'https://admin.example.com';

/** `Vary` tokens over every Vary line, lower-cased. */
const varyTokens = (answer: RawAnswer): string[] =>
  answer
    .all('vary')
    .flatMap((line) => line.split(','))
    .map((token) => token.trim().toLowerCase());

const preflightLines = (origin: string, ...requestHeaderLines: string[]): Array<[string, string]> => [
  ['Origin', origin],
  ['Access-Control-Request-Method', 'POST'],
  ...requestHeaderLines.map((line): [string, string] => ['Access-Control-Request-Headers', line]),
];

describe('CORS edge cases over real HTTP (two origins configured)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, CORS_ORIGINS: `${APP},${ADMIN}` });
  });
  afterAll(() => h.close());

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'never echoes the prototype name %j as an origin',
    async (origin) => {
      for (const [method, path] of [
        ['GET', '/health'],
        ['POST', '/webhooks/default'],
      ] as const) {
        const answer = await rawRequest(`${h.url}${path}`, method, [['Origin', origin]], method === 'POST' ? '{}' : undefined);
        expect(answer.all('access-control-allow-origin')).toEqual([]);
      }
      const preflight = await rawRequest(`${h.url}/webhooks/default`, 'OPTIONS', preflightLines(origin, 'content-type'));
      expect(preflight.status).toBe(403);
      expect(preflight.all('access-control-allow-origin')).toEqual([]);
    },
  );

  it.each([
    ['GET', '/health', 200],
    ['GET', '/nope', 404],
    ['POST', '/webhooks/default', 401],
    ['POST', '/webhooks/unknown-source', 404],
    ['OPTIONS', '/webhooks/default', 204],
  ])('%s %s carries Vary: Origin exactly once', async (method, path, status) => {
    for (const origin of [APP, ADMIN, 'https://other.example.com']) {
      const lines = method === 'OPTIONS' ? preflightLines(origin, 'content-type') : ([['Origin', origin]] as Array<[string, string]>);
      const answer = await rawRequest(`${h.url}${path}`, method, lines, method === 'POST' ? '{}' : undefined);
      if (origin !== 'https://other.example.com') expect(answer.status).toBe(status);
      expect(varyTokens(answer).filter((token) => token === 'origin')).toEqual(['origin']);
    }
  });

  it.each(['ORIGIN', 'origin', 'Origin', 'oRiGiN'])('reads the %s header in any letter case', async (name) => {
    const get = await rawRequest(`${h.url}/health`, 'GET', [[name, ADMIN]]);
    expect(get.all('access-control-allow-origin')).toEqual([ADMIN]);
    const preflight = await rawRequest(`${h.url}/webhooks/default`, 'OPTIONS', [
      [name, APP],
      ['ACCESS-CONTROL-REQUEST-METHOD', 'POST'],
      ['access-control-request-headers', 'Content-Type'],
    ]);
    expect(preflight.status).toBe(204);
    expect(preflight.all('access-control-allow-origin')).toEqual([APP]);
  });

  it('echoes no origin when two Origin lines disagree', async () => {
    const answer = await rawRequest(`${h.url}/health`, 'GET', [
      ['Origin', APP],
      ['Origin', ADMIN],
    ]);
    expect(answer.all('access-control-allow-origin')).toEqual([]);
  });

  it.each([
    ['a conflicting second line with an unlisted header', 403, ['content-type', 'x-evil']],
    ['an unlisted header on the first line', 403, ['x-evil', 'content-type']],
    ['an unlisted header among listed ones on a second line', 403, ['webhook-id', 'webhook-timestamp, x-evil']],
    ['two lines of listed headers', 204, ['content-type', 'webhook-id, webhook-signature']],
    ['the same line twice', 204, ['content-type', 'content-type']],
  ])('a preflight with %s answers %i', async (_label, status, requestHeaderLines) => {
    const answer = await rawRequest(`${h.url}/webhooks/default`, 'OPTIONS', preflightLines(APP, ...requestHeaderLines));
    expect(answer.status).toBe(status);
    if (status === 403) expect(JSON.parse(answer.body).error.code).toBe('cors_preflight_denied');
  });

  it.each(['unknown-source', '__proto__', 'constructor'])(
    'answers OPTIONS on the unknown source %j with 404, from an allowed origin too',
    async (source) => {
      const answer = await rawRequest(`${h.url}/webhooks/${source}`, 'OPTIONS', preflightLines(APP, 'content-type'));
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body).error.code).toBe('not_found');
    },
  );
});
