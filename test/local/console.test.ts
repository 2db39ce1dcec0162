import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecentRejections } from '../../local/console/rejections.js';

const ROOT = join(import.meta.dirname, '..', '..');
const filesUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));

const answer = (statusCode: number, error?: Record<string, unknown>) => ({
  source: 'default',
  clientIp: '127.0.0.1',
  requestId: 'local-request',
  result: { statusCode, body: error ? JSON.stringify({ error }) : '{"status":"accepted"}' },
});

describe('the console’s recent rejections', () => {
  it('keeps refusals only, with code and the development reason (else the message), newest last', () => {
    const ring = new RecentRejections();
    ring.recordAnswer(answer(202));
    ring.recordAnswer(answer(200));
    ring.recordAnswer(
      answer(401, { code: 'signature_invalid', message: 'Unauthorized.', reason: 'no signature matches any secret', requestId: 'r1' }),
      Date.UTC(2026, 0, 1),
    );
    ring.recordAnswer(answer(429, { code: 'rate_limited', message: 'Too many requests.', requestId: 'r2' }));
    ring.recordAnswer({ ...answer(502), result: { statusCode: 502, body: 'not json' } });
    expect(ring.after(0)).toEqual([
      {
        seq: 1,
        at: '2026-01-01T00:00:00.000Z',
        source: 'default',
        status: 401,
        code: 'signature_invalid',
        reason: 'no signature matches any secret',
        requestId: 'r1',
        clientIp: '127.0.0.1',
      },
      expect.objectContaining({ seq: 2, code: 'rate_limited', reason: 'Too many requests.', requestId: 'r2' }),
      expect.objectContaining({ seq: 3, status: 502, code: 'unknown', reason: '', requestId: 'local-request' }),
    ]);
    expect(ring.after(2).map((r) => r.seq)).toEqual([3]);
  });

  it('is a ring: the oldest go first, sequence numbers keep rising, long fields are cut', () => {
    const ring = new RecentRejections(3);
    for (let i = 0; i < 5; i++) ring.recordAnswer(answer(401, { code: 'x'.repeat(1000), requestId: `r${i}` }));
    expect(ring.after(0).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(ring.after(0)[0]?.code).toHaveLength(300);
  });

  it('is local only: nothing the AWS stack or the functions are built from imports local/', () => {
    for (const file of [...filesUnder('lib'), ...filesUnder('functions'), ...filesUnder('core')]) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from '(\.\.\/)+local\//);
    }
  });
});
