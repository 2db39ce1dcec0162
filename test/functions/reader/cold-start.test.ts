import { afterAll, describe, expect, it, vi } from 'vitest';
import { TEST_SECRETS } from '../../helpers/secrets.js';

const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
});

/**
 * The reader functions read the configuration and their own settings at cold start. Each threw the configuration's
 * problems alone: a bad `HOOKWARDEN_READ_BUDGET` beside a bad `WEBHOOK_MAX_AGE` was named only once the other was fixed,
 * a second failed deploy later.
 */
describe.each([
  ['reader', () => import('../../../functions/reader/handler.js')],
  ['events', () => import('../../../functions/events/handler.js')],
])('the %s function at cold start', (_name, load) => {
  it('starts with a good configuration and budget', async () => {
    process.env = { ...saved, AWS_REGION: 'us-east-1', WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_READ_BUDGET: '1000/60s' };
    vi.resetModules();
    // Lambda's Node.js runtime provides it; Middy wraps the events handler with it at cold start.
    vi.stubGlobal('awslambda', { streamifyResponse: (handler: unknown) => handler });
    try {
      expect(typeof (await load()).handler).toBe('function');
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it.each(['-5/60s', 'NaN', '3000000000/60s', '0/60s'])(
    'names a bad HOOKWARDEN_READ_BUDGET (%s) in one error with the configuration problems',
    async (budget) => {
      process.env = {
        ...saved,
        AWS_REGION: 'us-east-1',
        WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks,
        WEBHOOK_MAX_AGE: 'abc',
        HOOKWARDEN_READ_BUDGET: budget,
        HOOKWARDEN_STREAM_POLL_MS: '-1',
      };
      vi.resetModules();
      const refused = await load().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toMatchObject({ name: 'ConfigError' });
      const { message } = refused as Error;
      expect(message).toContain('WEBHOOK_MAX_AGE: must be a whole number');
      expect(message).toContain(`HOOKWARDEN_READ_BUDGET: "${budget}"`);
      expect(message).toContain('HOOKWARDEN_STREAM_POLL_MS: must be a whole number from 50 to 60000, got "-1"');
    },
  );
});
