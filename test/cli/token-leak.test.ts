import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { causeOf } from '../../cli/consumers/api.js';
import { cli } from '../helpers/cli.js';
import { emptyDir } from '../helpers/harness.js';

/** A read token as `hookwarden token create` prints it, broken over two lines (a terminal's wrap copied, a file's two lines). */
const TOKEN = 'hwk_Zq8vN3xL0pR7tY2mB5cW9dF4gH6jK1sA3eU8iO0';
const BROKEN = `${TOKEN.slice(0, 20)}\n${TOKEN.slice(20)}`;

/** A data directory naming a live "server" (this test's own process) at an address nothing listens on. */
const dataDirWithServer = (): string => {
  const dir = join(emptyDir(), 'data');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'server.json'),
    JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:9', dynamoEndpoint: 'http://127.0.0.1:9', sources: [] }),
  );
  return dir;
};

/**
 * fetch refuses a header value with a line break with a TypeError that quotes it whole ("Headers.append: "Bearer
 * hwk_…" is an invalid header value."): the consumers printed that to standard error, and `tail` retried it for ever.
 */
describe('a read token that no header can carry (--token-env)', () => {
  it.each([
    ['replay', ['replay', 'default', 'msg_1', '--to', 'http://127.0.0.1:2/hook']],
    ['tail', ['tail']],
  ])('%s: refused at once (exit 2), the token never printed, not even a part', async (_name, args) => {
    const result = await cli([...args, '--token-env', 'HW_TOKEN'], { HOOKWARDEN_DATA_DIR: dataDirWithServer(), HW_TOKEN: BROKEN });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HW_TOKEN');
    const printed = result.stdout + result.stderr;
    for (const line of BROKEN.split('\n'))
      for (let i = 0; i + 12 <= line.length; i += 1) expect(printed).not.toContain(line.slice(i, i + 12));
  });

  it("a network error's cause quoting the Authorization header is printed without the token (whatever else refuses it)", () => {
    const target = { token: TOKEN };
    let error: unknown;
    try {
      new Headers({ authorization: `Bearer ${TOKEN}\u0000` });
    } catch (thrown) {
      error = thrown;
    }
    expect(String((error as Error).message)).toContain(TOKEN);
    const shown = causeOf(error, target);
    expect(shown).toContain('is an invalid header value');
    for (let i = 0; i + 12 <= TOKEN.length; i += 1) expect(shown).not.toContain(TOKEN.slice(i, i + 12));
  });
});
