import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/program.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { TOKENS_TABLE } from '../../core/stores/tables.js';
import { DynamoDbTokenStore, hashToken, TOKEN_FORMAT } from '../../core/stores/token-store.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { answerStack } from '../helpers/fake-stack.js';
import { failRequests, throttled as throttledError, timedOut } from '../helpers/store-faults.js';

const capture = async (work: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> => {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => ((stderr += String(chunk)), true));
  try {
    return { code: await work(), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
};

describe('hookwarden token on the local store', () => {
  const dataDir = emptyDir();
  const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_DATA_DIR: dataDir };
  const cli = (args: string[]) => capture(() => run(['node', 'hookwarden', ...args], { env, cwd: emptyDir(), dataDir }));

  beforeAll(async () => {
    // The store npm start would have created.
    await (await startLocalStore({ dataDir: join(dataDir, 'dynamodb') })).close();
  });

  it('creates a token printed once, lists it without the token, and revokes it', async () => {
    const created = await cli(['token', 'create', '--name', 'laptop', '--ttl', '7d', '--sources', 'default']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(TOKEN_FORMAT);
    const { id } = hashToken(token);
    expect(created.stderr).toContain(`created read token ${id} "laptop" for sources default`);
    const listed = await cli(['token', 'list', '--json']);
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(rows).toEqual([expect.objectContaining({ id, name: 'laptop', sources: ['default'], status: 'active', lastUsedAt: null })]);
    expect(listed.stdout).not.toContain(token.slice(4));
    const expires = Date.parse(rows[0]?.expiresAt as string) - Date.parse(rows[0]?.createdAt as string);
    expect(expires).toBe(7 * 86_400_000);
    // In upper case, as a tool that shows hex that way gives it: the same token (the repeat below finds none active).
    expect((await cli(['token', 'revoke', id.toUpperCase()])).stdout).toMatch(
      /^revoked token [0-9a-f]{16} in the local store .* takes effect within 30 s/,
    );
    expect((await cli(['token', 'list'])).stdout).toMatch(new RegExp(`^${id}  laptop  default  expires \\S+  never used  revoked`, 'm'));
    const again = await cli(['token', 'revoke', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no active token/);
  });

  it('--json create includes the token once, with every source by default and a 30-day ttl', async () => {
    const created = await cli(['token', 'create', '--name', 'ci', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const body = JSON.parse(created.stdout) as Record<string, string>;
    expect(body.token).toMatch(TOKEN_FORMAT);
    expect(body).toMatchObject({ name: 'ci', sources: [], status: 'active' });
    expect(Date.parse(body.expiresAt as string) - Date.parse(body.createdAt as string)).toBe(30 * 86_400_000);
  });

  it.each([
    [['token', 'create', '--name', 'x', '--ttl', '1 week'], /--ttl "1 week": expected a duration/],
    [['token', 'create', '--name', 'x', '--ttl', '400d'], /up to 366d|1m to 366d/],
    [['token', 'create', '--name', 'x', '--sources', 'nope'], /unknown source "nope"/],
    [['token', 'create', '--name', 'x', '--sources', 'Bad!'], /not a source name/],
    [['token', 'create', '--name', '\u001b[2J'], /printable/],
    [['token', 'create'], /--name/],
    [['token', 'revoke', 'not-an-id'], /not a token id/],
  ])('%j exits 2 with a clear message', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  // Each read filters on a token's sources in one DynamoDB expression, at most 4 KB: more than 500 (586 and up) made every
  // read of the token a ValidationException on AWS. Counted once each: a name given twice is one source.
  it('--sources naming more than 500 sources: exit 2 naming the limit, and no token is created', async () => {
    const count = (await cli(['token', 'list', '--json'])).stdout;
    const names = Array.from({ length: 501 }, (_, i) => `s${i}`);
    const r = await cli(['token', 'create', '--name', 'wide', '--sources', names.join(',')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sources: 501 sources; a token names at most 500 \(.*4 KB\)/);
    expect(r.stdout).not.toMatch(/hwk_/);
    expect((await cli(['token', 'list', '--json'])).stdout).toBe(count);
    // 500 distinct names (one given twice) are within the limit: refused for what they are here, unknown sources.
    const within = await cli(['token', 'create', '--name', 'wide', '--sources', [...names.slice(0, 500), 's0'].join(',')]);
    expect(within.code).toBe(2);
    expect(within.stderr).toMatch(/unknown source "s0"/);
  });

  // An empty list would mean every source: a scope given by mistake as empty (`--sources "$UNSET"`) must not widen the token.
  it.each(['', ',', ' , '])('--sources %j names no source: exit 2, and no token is created', async (sources) => {
    const before = JSON.parse((await cli(['token', 'list', '--json'])).stdout) as unknown[];
    const r = await cli(['token', 'create', '--name', 'scoped', '--sources', sources]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sources: name at least one source/);
    expect(r.stdout).not.toMatch(/hwk_/);
    expect(JSON.parse((await cli(['token', 'list', '--json'])).stdout)).toHaveLength(before.length);
  });
});

describe('hookwarden token --stack', () => {
  const cfn = mockClient(CloudFormationClient);
  let local: LocalStore;
  beforeAll(async () => {
    local = await startLocalStore();
    answerStack(cfn, 'Hookwarden-prod', [
      [outputKey('tokensTable'), TOKENS_TABLE.localName],
      [outputKey('webhookUrl', 'billing'), 'https://x/prod/webhooks/billing'],
    ]);
    // A stack whose tokens table is not in this account and region (another region's stack, a deleted table).
    answerStack(cfn, 'Hookwarden-elsewhere', [[outputKey('tokensTable'), 'hookwarden-elsewhere-tokens']]);
  });
  afterAll(() => local.close());
  /** A DynamoDB command the tokens table throttles (every attempt), for the next command only. */
  let throttled: string | undefined;
  const aws = () => ({
    cloudFormation: () => new CloudFormationClient({ region: 'us-east-1' }),
    dynamodb: () => {
      const client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
      if (throttled) failRequests(client, throttled, { times: Number.POSITIVE_INFINITY });
      throttled = undefined;
      return client;
    },
    wafv2: () => new WAFV2Client({ region: 'us-east-1' }),
    secretsManager: () => new SecretsManagerClient({ region: 'us-east-1' }),
  });
  const cli = (args: string[]) =>
    capture(() =>
      run(['node', 'hookwarden', ...args, '--stack', 'Hookwarden-prod'], { env: {}, cwd: emptyDir(), dataDir: emptyDir() }, aws()),
    );

  it('creates, lists and revokes in the stack tokens table, sources checked against the stack', async () => {
    const created = await cli(['token', 'create', '--name', 'prod-tail', '--sources', 'billing']);
    expect(created.code).toBe(0);
    const { id, hash } = hashToken(created.stdout.trim());
    const store = new DynamoDbTokenStore({ client: local.client, tableName: TOKENS_TABLE.localName });
    expect(await store.find(id, hash)).toMatchObject({ name: 'prod-tail', sources: ['billing'] });
    expect((await cli(['token', 'create', '--name', 'x', '--sources', 'default'])).stderr).toMatch(
      /unknown source "default" in stack Hookwarden-prod/,
    );
    expect((await cli(['token', 'revoke', id])).stdout).toMatch(/revoked token .* in stack Hookwarden-prod/);
    expect((await store.find(id, hash))?.revokedAt).toBeDefined();
  });

  it("names a tokens table that does not exist, and what to check, rather than DynamoDB's message alone (exit 1)", async () => {
    const result = await capture(() =>
      run(
        ['node', 'hookwarden', 'token', 'list', '--stack', 'Hookwarden-elsewhere'],
        { env: {}, cwd: emptyDir(), dataDir: emptyDir() },
        aws(),
      ),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^hookwarden: the table hookwarden-elsewhere-tokens does not exist here: check the stack name, and that AWS_REGION is its region \(.+\)\n$/,
    );
  });

  it.each([
    [['token', 'list'], 'ScanCommand'],
    [['token', 'revoke', '0123456789abcdef'], 'UpdateItemCommand'],
  ])('%j with the tokens table throttled: names that table, in the words of the containment commands (exit 1)', async (args, command) => {
    throttled = command;
    const result = await cli(args);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `hookwarden: the table ${TOKENS_TABLE.localName} is throttling or did not answer (The level of configured provisioned throughput for the table was exceeded.): a change this command makes may not have been made; the same command is safe to run again\n`,
    );
  });

  it('token create with the tokens table throttled: names that table, and the token to revoke should it have been written (exit 1)', async () => {
    throttled = 'PutItemCommand';
    const result = await cli(['token', 'create', '--name', 'x']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      new RegExp(
        `^hookwarden: the table ${TOKENS_TABLE.localName} is throttling or did not answer \\(.+\\): a change this command makes may not have been made; the same command is safe to run again; if \`hookwarden token list --stack Hookwarden-prod\` shows token [0-9a-f]{16}, it was made but cannot be shown: revoke it\n$`,
      ),
    );
  });

  /** A client whose first attempt of `command` is written and its answer lost, and every retry throttled. */
  const landedThenThrottled = (command: string) => () => {
    const client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
    let attempts = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== command) return next(args);
        attempts += 1;
        if (attempts > 1) throw throttledError();
        await next(args);
        throw timedOut();
      },
      { step: 'deserialize', name: 'landedThenThrottled' },
    );
    return client;
  };

  it('token create and revoke whose first attempt was written, its answer lost, and every retry throttled: done, as written (exit 0)', async () => {
    const result = await capture(() =>
      run(
        ['node', 'hookwarden', 'token', 'create', '--name', 'lost', '--json', '--stack', 'Hookwarden-prod'],
        { env: {}, cwd: emptyDir(), dataDir: emptyDir() },
        { ...aws(), dynamodb: landedThenThrottled('PutItemCommand') },
      ),
    );
    expect(result.code, result.stderr).toBe(0);
    const shown = JSON.parse(result.stdout) as { id: string; token: string };
    const { id, hash } = hashToken(shown.token);
    expect(id).toBe(shown.id);
    const store = new DynamoDbTokenStore({ client: local.client, tableName: TOKENS_TABLE.localName });
    expect(await store.find(id, hash)).toMatchObject({ name: 'lost' });

    // The same for its revocation: revoked, not reported failed (nor "no active token" when run again).
    const revoked = await capture(() =>
      run(
        ['node', 'hookwarden', 'token', 'revoke', id, '--stack', 'Hookwarden-prod'],
        { env: {}, cwd: emptyDir(), dataDir: emptyDir() },
        { ...aws(), dynamodb: landedThenThrottled('UpdateItemCommand') },
      ),
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked token ${id} in stack Hookwarden-prod`));
    expect((await store.find(id, hash))?.revokedAt).toBeDefined();
  });
});
