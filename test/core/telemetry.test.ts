import { gunzipSync } from 'node:zlib';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WITHHELD } from '../../core/redaction.js';
import { countMetric, createTelemetry, METRIC, printableForLog } from '../../core/telemetry.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';

const UNPRINTABLE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('printableForLog', () => {
  it.each([
    ['/webhooks/default', '/webhooks/default'],
    ['\u001b[31mred', '\\x1b[31mred'],
    ['a\u009bb', 'a\\x9bb'],
    ['a\u202eb\u2066c', 'a\\u202eb\\u2066c'],
    ['line\u2028two\nthree', 'line\\u2028two\\x0athree'],
    ['back\\x1b', 'back\\\\x1b'],
    ['lone \ud800 surrogate', 'lone \\ud800 surrogate'],
    ['emoji 😀 kept', 'emoji 😀 kept'],
  ])('shows %j as %j', (raw, shown) => {
    expect(printableForLog(raw)).toBe(shown);
  });

  it('cuts to the bound and marks the cut', () => {
    expect(printableForLog('x'.repeat(200), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(printableForLog('😀'.repeat(200), 10)).toBe(`${'😀'.repeat(9)}…`);
    expect(printableForLog('x'.repeat(10), 10)).toBe('x'.repeat(10));
  });

  it('never returns an unprintable character or more than the bound, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), fc.integer({ min: 2, max: 300 }), (text, max) => {
        const shown = printableForLog(text, max);
        expect(shown).not.toMatch(UNPRINTABLE);
        expect(Array.from(shown).length).toBeLessThanOrEqual(max);
      }),
      { numRuns: 500 },
    );
  });
});

describe('countMetric', () => {
  /** The EMF lines `counts` prints, parsed. */
  const emitted = (counts: (metrics: Metrics) => void, metrics: Metrics): Record<string, unknown>[] => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      counts(metrics);
    } finally {
      write.mockRestore();
    }
    return lines
      .flatMap((text) => text.split('\n'))
      .filter((line) => line.includes('_aws'))
      .map((line) => JSON.parse(line));
  };

  const spied = (metrics: Metrics): Metrics => {
    vi.spyOn(metrics, 'singleMetric');
    return metrics;
  };

  it('prints one EMF line per count with exactly its own dimensions, and builds its emitter once', () => {
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'svc' });
    const singleMetric = vi.spyOn(metrics, 'singleMetric');
    const lines = emitted((m) => {
      countMetric(m, METRIC.rejected, { source: 'github', code: 'signature_invalid' });
      countMetric(m, METRIC.accepted, { source: 'stripe' });
      countMetric(m, METRIC.authenticationFailure, {});
    }, metrics);
    expect(
      lines.map((line) => [(line._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]?.Dimensions]),
    ).toEqual([[[['service', 'source', 'code']]], [[['service', 'source']]], [[['service']]]]);
    expect(lines[0]).toMatchObject({ service: 'svc', source: 'github', code: 'signature_invalid', DeliveryRejected: 1 });
    expect(lines[1]).toMatchObject({ service: 'svc', source: 'stripe', DeliveryAccepted: 1 });
    expect(lines[1]).not.toHaveProperty('code');
    expect(lines[2]).toMatchObject({ service: 'svc', AuthenticationFailure: 1 });
    expect(lines[2]).not.toHaveProperty('source');
    // singleMetric() builds a Metrics and a Console each call (~50 µs): once per Metrics is enough.
    expect(singleMetric).toHaveBeenCalledTimes(1);
  });

  it('a count that throws leaves nothing behind for the next one', () => {
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'svc' });
    const lines = emitted((m) => {
      countMetric(m, METRIC.accepted, { source: 'warm' });
      const emitter = vi.mocked(m.singleMetric).mock.results[0]?.value as Metrics;
      vi.spyOn(emitter, 'addMetric').mockImplementationOnce(() => {
        throw new Error('refused');
      });
      expect(() => countMetric(m, METRIC.rejected, { source: 'github', code: 'signature_invalid' })).toThrow('refused');
      countMetric(m, METRIC.authenticationFailure, {});
    }, spied(metrics));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ service: 'svc', AuthenticationFailure: 1 });
    expect(lines[1]).not.toHaveProperty('source');
    expect(lines[1]).not.toHaveProperty('code');
  });

  it('keeps the counts of two Metrics apart', () => {
    const a = new Metrics({ namespace: 'A', serviceName: 'a' });
    const b = new Metrics({ namespace: 'B', serviceName: 'b' });
    const lines = emitted(() => {
      countMetric(a, METRIC.accepted, { source: 'x' });
      countMetric(b, METRIC.accepted, { source: 'y' });
    }, a);
    expect(
      lines.map((line) => [
        (line._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]?.Namespace,
        line.service,
        line.source,
      ]),
    ).toEqual([
      ['A', 'a', 'x'],
      ['B', 'b', 'y'],
    ]);
  });
});

/**
 * Whichever code logs an error (a store's release, the blocklist refresh, the event stream, the local server), in
 * production the line carries what the error is, never a parser's, zlib's, Node's or the AWS SDK's message about its
 * input: those quote it (V8 quotes the text JSON.parse was given; DynamoDB the value it refused).
 */
describe('createTelemetry: foreign error messages in production', () => {
  const QUOTED = 'hwk_tokentokentokentokentokentokentokentoken';
  let store: LocalStore;
  beforeAll(async () => {
    store = await startLocalStore();
  });
  afterAll(() => store?.close());

  const thrown = async (work: () => unknown): Promise<Error> => {
    try {
      await work();
    } catch (error) {
      return error as Error;
    }
    throw new Error('did not throw');
  };
  const cases: Array<[string, () => unknown]> = [
    ['JSON.parse (SyntaxError)', () => JSON.parse(QUOTED)],
    ['decodeURIComponent (URIError)', () => decodeURIComponent(`%E0%A4%A${QUOTED}`)],
    ['gunzip (Z_DATA_ERROR)', () => gunzipSync(Buffer.from(QUOTED))],
    ['new URL (ERR_INVALID_URL, which keeps the input)', () => new URL(`http://x y/?token=${QUOTED}`)],
    [
      'DynamoDB (ValidationException from dynalite)',
      () => store.client.send(new GetItemCommand({ TableName: `t ${QUOTED}`, Key: { pk: { S: 'x' } } })),
    ],
  ];

  it.each(cases)('%s: withheld in production, its name and frames kept; kept in development', async (_name, work) => {
    const error = await thrown(work);
    const line = async (production: boolean) =>
      (await jsonLinesDuring(async () => createTelemetry({ production }).logger.error('could not refresh', { error }))).find(
        (l) => l.message === 'could not refresh',
      )?.error as Record<string, unknown>;
    const hidden = await line(true);
    expect(hidden).toMatchObject({ name: error.name, message: WITHHELD });
    expect(String(hidden.stack)).toMatch(/^\w+: \[withheld in production\]\n\s+at /);
    expect(JSON.stringify(hidden)).not.toContain(QUOTED.slice(0, 10));
    expect((await line(false)).message).toBe(error.message);
  });

  it('reads the mode from the environment as loadConfig does, and leaves an error of its own alone', async () => {
    const error = await thrown(() => JSON.parse(QUOTED));
    vi.stubEnv('NODE_ENV', 'production');
    try {
      const lines = await jsonLinesDuring(async () => {
        const { logger } = createTelemetry();
        logger.error('parse', { error });
        logger.error('own', { error: new Error('the handler answered undefined') });
      });
      expect(lines.find((l) => l.message === 'parse')?.error).toMatchObject({ message: WITHHELD });
      expect(lines.find((l) => l.message === 'own')?.error).toMatchObject({ message: 'the handler answered undefined' });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
