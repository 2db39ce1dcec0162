import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { countMetric, METRIC, printableForLog } from '../../core/telemetry.js';

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
