import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.js';
import { bypassMonitor } from '../../../core/middleware/bypass-monitor/index.js';
import { containment } from '../../../core/middleware/containment/index.js';
import { corsPolicy, preflightHandler } from '../../../core/middleware/cors/index.js';
import { rawBody } from '../../../core/middleware/raw-body/index.js';
import type { HttpError } from '../../../core/errors.js';
import { ControlsCache } from '../../../core/stores/controls-cache.js';
import { createTelemetry } from '../../../core/telemetry.js';
import { middyRequest } from '../../helpers/middy-request.js';

const controls = new ControlsCache({ store: { load: async () => ({ blocks: [], disabledSources: [] }) } as never });
const telemetry = createTelemetry();

/**
 * The middleware factories' number options from JavaScript without types: `NaN` compares false with everything, so a
 * limit of `NaN` was no limit and a header of it was sent as `NaN`. Each is a ConfigError at cold start naming it.
 */
describe('middleware factories given numbers that are not', () => {
  it.each<[string, () => unknown, string]>([
    [
      'rawBody defaultMaxBytes: NaN',
      () => rawBody({ defaultMaxBytes: Number.NaN }),
      'rawBody defaultMaxBytes: must be a whole number from 1 to 10485760, got NaN',
    ],
    [
      'rawBody defaultMaxBytes: -1',
      () => rawBody({ defaultMaxBytes: -1 }),
      'rawBody defaultMaxBytes: must be a whole number from 1 to 10485760, got -1',
    ],
    [
      'rawBody defaultMaxBytes: "1mb"',
      () => rawBody({ defaultMaxBytes: '1mb' as never }),
      'rawBody defaultMaxBytes: must be a whole number from 1 to 10485760, got a string',
    ],
    [
      'containment disabledRetryAfterSeconds: NaN',
      () => containment({ controls, disabledRetryAfterSeconds: Number.NaN }),
      'containment disabledRetryAfterSeconds: must be a whole number from 1 to 86400, got NaN',
    ],
    [
      'corsPolicy maxAgeSeconds: -5',
      () => corsPolicy({ origins: [], maxAgeSeconds: -5 }),
      'corsPolicy maxAgeSeconds: must be a whole number from 0 to 86400, got -5',
    ],
    [
      'preflightHandler maxAgeSeconds: Infinity',
      () => preflightHandler({ origins: [], maxAgeSeconds: Infinity }),
      'preflightHandler maxAgeSeconds: must be a whole number from 0 to 86400, got Infinity',
    ],
    [
      'bypassMonitor ipv6SpreadThreshold: NaN',
      () => bypassMonitor({ telemetry, ipv6SpreadThreshold: Number.NaN }),
      'bypassMonitor ipv6SpreadThreshold: must be a whole number from 1 to 1000000, got NaN',
    ],
  ])('%s: a ConfigError naming it', (_name, make, problem) => {
    expect(make).toThrow(new ConfigError([problem]));
  });

  it('rawBody with a limit it can use still enforces it (413), and left out keeps 1 MiB', async () => {
    const request = middyRequest({ body: 'x'.repeat(11) });
    await expect(rawBody({ defaultMaxBytes: 10 }).before?.(request)).rejects.toMatchObject({
      statusCode: 413,
    } satisfies Partial<HttpError>);
    const fits = middyRequest({ body: 'x'.repeat(1024 * 1024) });
    await rawBody({ defaultMaxBytes: undefined }).before?.(fits);
    expect(fits.context.hookwarden.body?.length).toBe(1024 * 1024);
  });
});
