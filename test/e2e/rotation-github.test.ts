import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startServer, type RunningServer } from '../helpers/cli.js';
import { startGitHubStandIn, type GitHubStandIn } from '../helpers/github-stand-in.js';
import { emptyDir } from '../helpers/harness.js';

const TOKEN = 'ghp_standin_token_for_tests_only';
const HOOK = 'repos/acme/shop/hooks/42';
/** Long enough that the deliveries right after the rotation land inside it on a slow machine. */
const OVERLAP_SECONDS = 20;

type KeyFile = { keys: Array<{ id: string; secret: string; next?: boolean; notAfter?: number }> };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('hookwarden rotate <github source> against a local stand-in for GitHub, with npm start running', () => {
  const cwd = emptyDir();
  const dataDir = emptyDir();
  let github: GitHubStandIn;
  let server: RunningServer;
  let url = '';
  const env = () => ({
    HOOKWARDEN_DATA_DIR: dataDir,
    GH_TOKEN: TOKEN,
    HOOKWARDEN_GITHUB_API_URL: github.url,
    WEBHOOK_SECRET_CACHE_SECONDS: '1',
  });
  const keyFile = () => JSON.parse(readFileSync(join(dataDir, 'keys', 'gh.json'), 'utf8')) as KeyFile;

  /** A push delivery signed with `secret` as GitHub signs (a fresh body each time: GitHub's replay key is the signed bytes). */
  const deliver = async (secret: string): Promise<number> => {
    const body = JSON.stringify({ ref: 'refs/heads/main', after: randomUUID() });
    const response = await fetch(`${url}/webhooks/gh`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  };

  beforeAll(async () => {
    github = await startGitHubStandIn(TOKEN);
    writeFileSync(
      join(cwd, 'hookwarden.config.json'),
      JSON.stringify({
        sources: [
          {
            name: 'gh',
            scheme: 'github',
            rotation: { mode: 'github', every: '30d', github: { repository: 'acme/shop', hookId: 42 }, tokenEnv: 'GH_TOKEN' },
          },
        ],
      }),
    );
    server = await startServer(env(), cwd);
    url = /^Hookwarden is listening on (http:\/\/\S+)$/m.exec(server.output())?.[1] ?? '';
    github.hooks.set(HOOK, { url: `${url}/webhooks/gh` });
  });
  afterAll(async () => {
    server.process.kill('SIGKILL');
    await github.close();
  });

  // GitHub's ping answered 6 s after it was requested. The promotion window of a 20 s overlap was a quarter of it (5 s):
  // the rotation was withdrawn at finishSecret, after GitHub had been switched. A github rotation's window is at least
  // GITHUB_SWITCH_SECONDS (60 s) now, so the old key verifies until the plan + 20 s + 60 s.
  it('switches the hook to the staged key, whose ping is accepted; the old key verifies until the overlap ends, and is refused after', async () => {
    github.pingDelayMs = 6_000;
    const path = join(dataDir, 'keys', 'gh.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const before = keyFile();
    const oldKey = before.keys[0]?.secret as string;
    const staged = before.keys.find((k) => k.next)?.secret as string;
    expect(await deliver(oldKey)).toBe(202);

    // The switch waits until the server has accepted the staged key for a cache period (1 s here) plus the margin.
    let rotated = await cli(['rotate', 'gh', '--overlap', `${OVERLAP_SECONDS}s`], env(), cwd);
    for (let i = 0; i < 20 && !/now signs with/.test(rotated.stdout); i++) {
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stdout).toMatch(/staged key k-[0-9a-f]{8} for the next rotation/);
      await sleep(1_000);
      rotated = await cli(['rotate', 'gh', '--overlap', `${OVERLAP_SECONDS}s`], env(), cwd);
    }
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(
      /^rotated source gh: GitHub hook acme\/shop #42 now signs with key k-[0-9a-f]{8} \(its ping was accepted\)/m,
    );
    // GitHub got exactly the staged key, through PATCH …/hooks/42/config.
    const patches = github.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toEqual([{ method: 'PATCH', path: '/repos/acme/shop/hooks/42/config', body: { secret: staged } }]);
    expect(github.hooks.get(HOOK)?.secret).toBe(staged);
    // The stand-in's signed ping was accepted by the running server.
    expect(github.deliveries.get(HOOK)?.map((d) => [d.event, d.status_code])).toEqual([['ping', 202]]);
    // No key value reaches the output.
    expect(rotated.stdout + rotated.stderr).not.toContain(staged);
    expect(rotated.stdout + rotated.stderr).not.toContain(oldKey);

    // During the overlap: both keys verify.
    expect(await deliver(oldKey)).toBe(202);
    expect(await deliver(staged)).toBe(202);
    const after = keyFile();
    expect(after.keys[0]?.secret).toBe(staged);
    expect(after.keys[1]?.next).toBe(true);
    const notAfter = after.keys.find((k) => k.secret === oldKey)?.notAfter as number;
    // At least the overlap after the promotion; at most the overlap and the 60 s window after the plan.
    expect(notAfter).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + OVERLAP_SECONDS - 2);
    expect(notAfter).toBeLessThanOrEqual(Date.now() / 1000 + OVERLAP_SECONDS + 60);

    // After the overlap: the old key is refused, the new one still verifies.
    await sleep(Math.max(0, notAfter * 1000 - Date.now()) + 1_500);
    expect(await deliver(oldKey)).toBe(401);
    expect(await deliver(staged)).toBe(202);

    const listed = await cli(['keys', 'gh'], env(), cwd);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/k-[0-9a-f]{8} +current +age \S+ +no expiry/);
    expect(listed.stdout).toMatch(/k-[0-9a-f]{8} +next +age/);
    expect(listed.stdout).toMatch(/k-[0-9a-f]{8} +expired +age \S+ +expired /);
    for (const key of after.keys) expect(listed.stdout).not.toContain(key.secret);
  }, 150_000);
});
