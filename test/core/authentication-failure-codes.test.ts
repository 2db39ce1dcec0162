import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { AUTHENTICATION_FAILURE_CODES, isAuthenticationFailure } from '../../core/errors.js';
import { createTelemetry, METRIC, reportRejection, type Telemetry } from '../../core/telemetry.js';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** Telemetry whose metrics record each count's name instead of printing EMF. */
const recording = (): { telemetry: Telemetry; counted: string[] } => {
  const counted: string[] = [];
  const metrics = {
    singleMetric: () => ({ addDimension: () => undefined, addMetric: (name: string) => counted.push(name) }),
  } as unknown as Metrics;
  return { telemetry: { logger: createTelemetry().logger, metrics }, counted };
};

describe('the authentication-failure codes, defined once', () => {
  it.each(AUTHENTICATION_FAILURE_CODES)('counts %s as AuthenticationFailure (what the alarm reads)', (code) => {
    const { telemetry, counted } = recording();
    reportRejection(telemetry, { code, statusCode: 401, source: 'default' });
    expect(counted).toEqual([METRIC.rejected, METRIC.authenticationFailure]);
  });

  it.each(['ip_denied', 'rate_limited', 'payload_too_large', 'signature'])('does not count %s as one', (code) => {
    expect(isAuthenticationFailure(code)).toBe(false);
    const { telemetry, counted } = recording();
    reportRejection(telemetry, { code, statusCode: 403, source: 'default' });
    expect(counted).not.toContain(METRIC.authenticationFailure);
  });

  it("are exactly the README answer table's 401 rows", () => {
    const documented = [...README.matchAll(/^\| 401 \| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...AUTHENTICATION_FAILURE_CODES].sort());
  });
});
