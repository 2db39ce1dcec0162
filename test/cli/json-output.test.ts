import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startServer, type RunningServer } from '../helpers/cli.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

describe('--json on verify, deliveries and blocks', () => {
  const dataDir = emptyDir();
  const cwd = emptyDir();
  const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_DATA_DIR: dataDir };
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer(env, cwd);
  });
  afterAll(() => {
    server.process.kill('SIGKILL');
  });

  it('verify --json: valid with id and event type, or invalid with code and reason', async () => {
    const body = '{"type":"invoice.paid"}';
    writeFileSync(join(cwd, 'body.json'), body);
    const signed = await cli(['sign', 'default', '--file', 'body.json', '--id', 'msg_json_1', '--timestamp', '1700000000'], env, cwd);
    writeFileSync(join(cwd, 'headers.txt'), signed.stdout);
    const args = ['verify', 'default', '--headers', 'headers.txt', '--body', 'body.json', '--json'];
    const valid = await cli([...args, '--now', '1700000010'], env, cwd);
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.stdout)).toEqual({
      valid: true,
      deliveryId: 'msg_json_1',
      eventType: 'invoice.paid',
      secrets: 'WEBHOOK_SECRET',
    });
    const stale = await cli([...args, '--now', '1700003600'], env, cwd);
    expect(stale.code).toBe(1);
    expect(JSON.parse(stale.stdout)).toEqual({
      valid: false,
      code: 'timestamp_out_of_range',
      reason: 'timestamp is 3600 s old (limit 300 s)',
      secrets: 'WEBHOOK_SECRET',
    });
  });

  it.each([
    [['deliveries', 'show', 'default', 'msg_never_sent', '--json'], 1, /^hookwarden: .*msg_never_sent/],
    [['deliveries', '--limit', '0', '--json'], 2, /^hookwarden: .*--limit/],
    [['keys', 'nosuchsource', '--json'], 2, /^hookwarden: .*nosuchsource/],
    [['token', 'revoke', 'not-an-id', '--json'], 2, /^hookwarden: .*not a token id/],
  ])('%j fails with nothing on standard output: its message on standard error, exit %i', async (args, code, message) => {
    const failed = await cli(args, env, cwd);
    expect(failed.code, failed.stderr).toBe(code);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(message);
  });

  it('deliveries --json gives each delivery as deliveries show --json does: times in ISO 8601', async () => {
    expect((await cli(['send', 'default', '--id', 'msg_json_list', '--data', '{"type":"a.b"}'], env, cwd)).code).toBe(0);
    const list = await cli(['deliveries', '--json', '--limit', '1'], env, cwd);
    expect(list.code).toBe(0);
    const [row] = JSON.parse(list.stdout) as Record<string, unknown>[];
    const shown = JSON.parse((await cli(['deliveries', 'show', 'default', 'msg_json_list', '--json'], env, cwd)).stdout) as Record<
      string,
      unknown
    >;
    expect(row).toEqual(shown);
    expect(row?.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('deliveries --json and deliveries show --body --json name a delivery as the deliveries API does, with the same values', async () => {
    expect((await cli(['send', 'default', '--id', 'msg_json_api', '--data', '{"type":"c.d"}'], env, cwd)).code).toBe(0);
    const created = await cli(['token', 'create', '--name', 'json-names', '--json'], env, cwd);
    expect(created.code, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout) as { token: string };
    const url = server.output().match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    const headers = { authorization: `Bearer ${token}` };
    const listed = (await (await fetch(`${url}/deliveries?source=default&limit=1`, { headers })).json()) as { deliveries: object[] };
    const one = (await (await fetch(`${url}/deliveries/default/msg_json_api`, { headers })).json()) as Record<string, unknown>;

    const [row] = JSON.parse((await cli(['deliveries', '--json', '--limit', '1'], env, cwd)).stdout) as Record<string, unknown>[];
    expect(row).toMatchObject(listed.deliveries[0] as object);
    expect(row).toMatchObject({ id: 'msg_json_api', eventType: 'c.d', size: 14, status: 'stored' });
    const shown = JSON.parse((await cli(['deliveries', 'show', 'default', 'msg_json_api', '--body', '--json'], env, cwd)).stdout) as object;
    expect(shown).toMatchObject(one);
    expect(shown).not.toHaveProperty('bodyEncoding');
  });

  it('blocks --json lists blocks and disabled sources; the plain list escapes control characters', async () => {
    expect((await cli(['block', '203.0.113.7', '--for', '1h', '--reason', 'stuffing\u009b2J'], env, cwd)).code).toBe(0);
    expect((await cli(['disable', 'default', '--reason', 'rotating'], env, cwd)).code).toBe(0);
    const json = await cli(['blocks', '--json'], env, cwd);
    expect(json.code).toBe(0);
    expect(json.stdout).not.toMatch(/[\u007f-\u009f]/);
    expect(JSON.parse(json.stdout)).toEqual({
      where: expect.any(String),
      blocks: [{ range: '203.0.113.7', until: expect.stringMatching(/Z$/), reason: 'stuffing\u009b2J' }],
      disabledSources: [{ source: 'default', since: expect.stringMatching(/Z$/), reason: 'rotating' }],
    });
    const plain = await cli(['blocks'], env, cwd);
    expect(plain.stdout).toContain('stuffing\\x9b2J');
  });
});
