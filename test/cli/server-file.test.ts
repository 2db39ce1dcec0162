import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/program.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const runIn = async (dataDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const env = { HOOKWARDEN_DATA_DIR: dataDir, WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks };
    return { code: await run(['node', 'hookwarden', ...args], { env, cwd: emptyDir(), dataDir }), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
};

describe('a server.json that no server wrote is no running server', () => {
  // This process is alive: only the file's shape can tell these apart from a running server.
  it.each([
    ['without URLs', { pid: process.pid }],
    [
      'pid 0, which signals the process group and so always "exists"',
      { pid: 0, url: 'http://127.0.0.1:9', dynamoEndpoint: 'http://127.0.0.1:9' },
    ],
    ['URLs that are not URLs', { pid: process.pid, url: 'garbage', dynamoEndpoint: 'garbage' }],
  ])('%s', async (_, info) => {
    const dataDir = emptyDir();
    writeFileSync(join(dataDir, 'server.json'), JSON.stringify(info));
    const listed = await runIn(dataDir, ['deliveries']);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(/^hookwarden: no local store in \S+ yet: npm start creates it/);
    const replayed = await runIn(dataDir, ['replay', 'default', 'msg_1', '--to', 'http://127.0.0.1:8089/']);
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toMatch(/^hookwarden: no local server is running with data directory /);
  });
});

describe('a server.json whose server is gone but whose pid lives on (another process took it)', () => {
  it('says the file is stale, not to retry or that the command is safe to run again', async () => {
    // A port nothing listens on: taken, then given back.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const dataDir = emptyDir();
    writeFileSync(
      join(dataDir, 'server.json'),
      JSON.stringify({ pid: process.pid, url: `http://127.0.0.1:${port}`, dynamoEndpoint: `http://127.0.0.1:${port}` }),
    );
    for (const args of [['deliveries'], ['block', '203.0.113.7', '--for', '1h'], ['blocks']]) {
      const r = await runIn(dataDir, args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(
        /^hookwarden: \S+server\.json names a server \(pid \d+\) whose store at http:\/\/127\.0\.0\.1:\d+ does not answer: .*remove it and run the command again\n/,
      );
    }
  });
});
