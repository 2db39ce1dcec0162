import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDevelopmentToken } from '../../local/dev-token.js';
import { startLocal, type LocalHookwarden } from '../../local/index.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/** Opens GET /events with `token`, waits for the answer's status, and closes the stream. */
const openAndClose = async (url: string, token: string): Promise<number> => {
  const abort = new AbortController();
  const res = await fetch(`${url}/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  abort.abort();
  return res.status;
};

describe('npm start: streams one token may open', () => {
  let local: LocalHookwarden;
  beforeAll(async () => {
    local = await startLocal({
      env: { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      cwd: emptyDir(),
      port: 0,
    });
  });
  afterAll(() => local?.close());

  // The AWS default (30 per 14 minutes) bounds Lambda invocations; a local page reloaded while it is
  // being built opens a stream each time, and must not be locked out after 30 reloads.
  it('admits more streams than the AWS default of 30 per 14 minutes, and refuses past 300', async () => {
    const token = readDevelopmentToken(local.dataDir) as string;
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) statuses.push(await openAndClose(local.url, token));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(await openAndClose(local.url, token)).toBe(429);
  });
});
