import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { startLocal } from '../../local/index.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/** The problems `npm start` refuses to start with; none of these cases gets as far as the store. */
const problemsOf = async (env: Record<string, string>): Promise<readonly string[]> => {
  const error: unknown = await startLocal({
    env: { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, ...env },
    cwd: emptyDir(),
    inMemory: true,
  }).then(
    async (local) => {
      await local.close();
      throw new Error(`started on ${local.url}`);
    },
    (refused: unknown) => refused,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
};

// Number() read them: PORT=0x1F90 listened on 8080, PORT=1e3 on 1000 (EACCES for a user), PORT=" " on a random port, and
// HOOKWARDEN_REQUEST_TIMEOUT_SECONDS=1e3 gave clients 1000 s, where WEBHOOK_MAX_AGE and the other numbers refuse such forms.
describe('npm start reads PORT and HOOKWARDEN_REQUEST_TIMEOUT_SECONDS as decimal digits only', () => {
  it.each(['0x1F90', '1e3', ' ', '3000.0', '-0', '+3000'])('refuses PORT=%j', async (value) => {
    expect(await problemsOf({ PORT: value })).toEqual([`PORT: must be a port number from 0 to 65535, got ${JSON.stringify(value)}`]);
  });

  it.each(['1e2', '0x1e', ' ', '30.0', '+30'])('refuses HOOKWARDEN_REQUEST_TIMEOUT_SECONDS=%j', async (value) => {
    expect(await problemsOf({ PORT: '0', HOOKWARDEN_REQUEST_TIMEOUT_SECONDS: value })).toEqual([
      `HOOKWARDEN_REQUEST_TIMEOUT_SECONDS: must be a whole number of seconds from 1 to 3600, got ${JSON.stringify(value)}`,
    ]);
  });
});
