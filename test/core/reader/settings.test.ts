import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.js';
import { READER_DEFAULTS, readerSettings } from '../../../core/reader/settings.js';

describe('readerSettings', () => {
  it('has defaults that keep a stream inside Lambda and API Gateway limits', () => {
    expect(readerSettings({})).toEqual(READER_DEFAULTS);
    expect(READER_DEFAULTS.streamMaxMs).toBeLessThan(15 * 60_000);
    expect(READER_DEFAULTS.keepAliveMs).toBeLessThanOrEqual(15_000);
    expect(READER_DEFAULTS.pollMs).toBeGreaterThanOrEqual(1_000);
    // Two streams following live read about 2 + 14 items a second per delivery stored a second: unnoticed below 350.
    expect(READER_DEFAULTS.readBudget.limit / READER_DEFAULTS.readBudget.windowSeconds).toBeGreaterThanOrEqual(2 + 14 * 350);
  });

  it('reads HOOKWARDEN_API_RATE_LIMIT like WEBHOOK_RATE_LIMIT and the stream settings', () => {
    expect(
      readerSettings({
        HOOKWARDEN_API_RATE_LIMIT: '100/1m',
        HOOKWARDEN_STREAM_RATE_LIMIT: '5/10m',
        HOOKWARDEN_STREAM_MAX_SECONDS: '60',
        HOOKWARDEN_STREAM_KEEPALIVE_SECONDS: '5',
        HOOKWARDEN_READ_BUDGET: '60000/1m',
      }),
    ).toMatchObject({
      readBudget: { limit: 60_000, windowSeconds: 60 },
      apiRateLimit: { limit: 100, windowSeconds: 60 },
      streamRateLimit: { limit: 5, windowSeconds: 600 },
      streamMaxMs: 60_000,
      keepAliveMs: 5_000,
    });
  });

  it('reports every bad variable at once', () => {
    let error: unknown;
    try {
      readerSettings({
        HOOKWARDEN_API_RATE_LIMIT: 'lots',
        HOOKWARDEN_STREAM_RATE_LIMIT: '0/1m',
        HOOKWARDEN_READ_BUDGET: '5000 items',
        HOOKWARDEN_STREAM_MAX_SECONDS: '900',
        HOOKWARDEN_STREAM_KEEPALIVE_SECONDS: '0',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^HOOKWARDEN_API_RATE_LIMIT: "lots" is not a rate/),
      expect.stringMatching(/^HOOKWARDEN_STREAM_RATE_LIMIT: "0\/1m": the count must be at least 1/),
      expect.stringMatching(/^HOOKWARDEN_READ_BUDGET: "5000 items" is not a rate/),
      expect.stringMatching(/^HOOKWARDEN_STREAM_MAX_SECONDS: must be a whole number from 1 to 870/),
      expect.stringMatching(/^HOOKWARDEN_STREAM_KEEPALIVE_SECONDS: must be a whole number from 1 to 60/),
    ]);
  });
});
