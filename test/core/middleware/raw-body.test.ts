import { describe, expect, it } from 'vitest';
import { rawBody } from '../../../core/middleware/raw-body/index.js';
import { middyRequest, sourcesFrom } from '../../helpers/middy-request.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

const sources = sourcesFrom({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, WEBHOOK_MAX_BODY_BYTES: '16' });

/** A request as raw-body sees it: the source (with its 16-byte limit) resolved, unless `source` is false. */
const request = (body: string | null, isBase64Encoded = false, source = true) => {
  const req = middyRequest({ body, isBase64Encoded });
  if (source) req.context.hookwarden.source = sources.get('default');
  return req;
};

describe('rawBody', () => {
  it('keeps a text body as its exact UTF-8 bytes', async () => {
    const req = request('{"é":"ü"}');
    await rawBody().before!(req);
    expect(req.context.hookwarden.body).toEqual(Buffer.from('{"é":"ü"}', 'utf8'));
  });

  it('decodes a base64-encoded body to its bytes, binary included', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const req = request(bytes.toString('base64'), true);
    await rawBody().before!(req);
    expect(req.context.hookwarden.body).toEqual(bytes);
  });

  it('treats a missing body as empty', async () => {
    const req = request(null);
    await rawBody().before!(req);
    expect(req.context.hookwarden.body).toEqual(Buffer.alloc(0));
  });

  it.each(['not base64!', 'abc', 'ab=c'])('refuses invalid base64 %j with 400 body_invalid', async (text) => {
    await expect(rawBody().before!(request(text, true))).rejects.toMatchObject({ statusCode: 400, code: 'body_invalid' });
  });

  it.each([
    ['text', 'x'.repeat(17), false],
    ['multi-byte text', 'é'.repeat(9), false],
    ['base64', Buffer.alloc(17).toString('base64'), true],
  ])('refuses %s over the source limit with 413 and the limit', async (_case, body, base64) => {
    const req = request(body, base64);
    await expect(rawBody().before!(req)).rejects.toMatchObject({ statusCode: 413, code: 'payload_too_large', details: { limitBytes: 16 } });
    expect(req.context.hookwarden.body).toBeUndefined();
  });

  it('accepts a body of exactly the limit', async () => {
    await expect(rawBody().before!(request('x'.repeat(16)))).resolves.toBeUndefined();
  });

  it('applies 1 MiB without a source, and defaultMaxBytes when given', async () => {
    await expect(rawBody().before!(request('x'.repeat(1024 * 1024), false, false))).resolves.toBeUndefined();
    await expect(rawBody().before!(request('x'.repeat(1024 * 1024 + 1), false, false))).rejects.toMatchObject({ statusCode: 413 });
    await expect(rawBody({ defaultMaxBytes: undefined }).before!(request('x'.repeat(1024 * 1024 + 1), false, false))).rejects.toMatchObject(
      { statusCode: 413 },
    );
    await expect(rawBody({ defaultMaxBytes: 4 }).before!(request('x'.repeat(5), false, false))).rejects.toMatchObject({
      statusCode: 413,
      details: { limitBytes: 4 },
    });
  });
});
