import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, startServer } from '../helpers/cli.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

type KeyFile = { keys: Array<{ id: string; secret: string; createdAt?: number; next?: boolean; notAfter?: number }> };

/** A working directory with one source of the given rotation, and a data directory. */
const setup = (source: Record<string, unknown>) => {
  const cwd = emptyDir();
  const dataDir = emptyDir();
  writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'src', ...source }] }));
  return {
    cwd,
    env: { HOOKWARDEN_DATA_DIR: dataDir },
    keyFile: () => JSON.parse(readFileSync(join(dataDir, 'keys', 'src.json'), 'utf8')) as KeyFile,
    path: join(dataDir, 'keys', 'src.json'),
  };
};

/** Rewrites the key document as it was ten minutes ago: its keys' createdAt, and when it became current (the file's time). */
const ageTenMinutes = (path: string, document: KeyFile): void => {
  writeFileSync(path, JSON.stringify({ keys: document.keys.map((k) => ({ ...k, createdAt: (k.createdAt ?? 0) - 600 })) }));
  const then = Date.now() / 1000 - 600;
  utimesSync(path, then, then);
};

describe('hookwarden rotate and keys on the local store', () => {
  it('refuses a WEBHOOK_SECRET_CACHE_SECONDS npm start would refuse, rather than waiting 300 s', async () => {
    // No config file: the default source with the development key document npm start would use.
    const env = { HOOKWARDEN_DATA_DIR: emptyDir(), WEBHOOK_SECRET_CACHE_SECONDS: 'five minutes', NEW_KEY: TEST_SECRETS.standardWebhooks };
    const r = await cli(['rotate', 'default', '--secret-env', 'NEW_KEY'], env, emptyDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WEBHOOK_SECRET_CACHE_SECONDS: must be a whole number from 1 to 86400, got "five minutes"/);
    expect(r.stderr).not.toContain(TEST_SECRETS.standardWebhooks);
  });

  it('refuses a source whose secret is an environment variable, naming the variable', async () => {
    const { cwd, env } = setup({ scheme: 'github', secretEnv: 'GITHUB_WEBHOOK_SECRET' });
    const r = await cli(['rotate', 'src'], { ...env, GITHUB_WEBHOOK_SECRET: TEST_SECRETS.github }, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /source "src" takes its secret from the environment variable GITHUB_WEBHOOK_SECRET, which this tool cannot change/,
    );
    expect(r.stderr).not.toContain(TEST_SECRETS.github);
    const listed = await cli(['keys', 'src'], { ...env, GITHUB_WEBHOOK_SECRET: TEST_SECRETS.github }, cwd);
    expect(listed.code).toBe(2);
    expect(listed.stderr).toMatch(/environment variable GITHUB_WEBHOOK_SECRET/);
  });

  it("manual: takes the provider's new key from --secret-env, checked for the scheme, and keeps the old keys for the overlap", async () => {
    const { cwd, env, keyFile, path } = setup({ scheme: 'github' });
    expect((await cli(['rotate', 'src'], env, cwd)).stderr).toMatch(/rotates manually: .* --secret-env NAME/);
    const short = await cli(['rotate', 'src', '--secret-env', 'NEW_KEY'], { ...env, NEW_KEY: 'Str0ng' }, cwd);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(
      /--secret-env NEW_KEY: the new key has 6 bytes of key material; at least 16 are needed \(scheme github\); nothing was written/,
    );
    const before = Math.floor(Date.now() / 1000);
    const r = await cli(['rotate', 'src', '--secret-env', 'NEW_KEY', '--overlap', '2h'], { ...env, NEW_KEY: TEST_SECRETS.github }, cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^rotated source src in .*keys\/src\.json: the provider's new key is current; the previous keys stay valid until /,
    );
    expect(r.stdout).not.toContain(TEST_SECRETS.github);
    const document = keyFile();
    expect(document.keys[0]).toMatchObject({ secret: TEST_SECRETS.github });
    expect(document.keys[0]?.notAfter).toBeUndefined();
    for (const old of document.keys.slice(1)) {
      expect(old.notAfter).toBeGreaterThanOrEqual(before + 7200);
      expect(old.notAfter).toBeLessThanOrEqual(before + 7210);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('shared: stages a generated key, and switches to it only once the key cache period has passed', async () => {
    const { cwd, env, keyFile } = setup({ scheme: 'hmac', hmac: { header: 'x-signature' }, rotation: { mode: 'shared', every: '7d' } });
    // The document does not exist yet: rotate creates it (current + staged); the staged key is too young to switch to.
    const first = await cli(['rotate', 'src'], env, cwd);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/staged key k-[0-9a-f]{8} for the next rotation; .*\(300 s\)/);
    const staged = keyFile().keys.find((k) => k.next) as KeyFile['keys'][number];
    const current = keyFile().keys[0] as KeyFile['keys'][number];
    // Age the staged key and the document past the cache period and its margin (as if the server had run for ten minutes).
    ageTenMinutes(join(env.HOOKWARDEN_DATA_DIR, 'keys', 'src.json'), keyFile());
    const second = await cli(['rotate', 'src', '--overlap', '1h'], env, cwd);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(
      new RegExp(`^rotated source src: the sender now signs with key ${staged.id}; the previous key stays valid until `, 'm'),
    );
    const after = keyFile();
    expect(after.keys.map((k) => k.id)).toEqual([staged.id, expect.stringMatching(/^k-/), current.id]);
    expect(after.keys[1]?.next).toBe(true);
    expect(after.keys[1]?.secret).toMatch(/^[0-9a-f]{48}$/);
    expect(after.keys[2]?.notAfter).toBeGreaterThan(Date.now() / 1000 + 3500);
    const listed = await cli(['keys', 'src', '--json'], env, cwd);
    const json = JSON.parse(listed.stdout) as { keys: Array<{ id: string; role: string }> };
    expect(json.keys.map((k) => k.role)).toEqual(['current', 'next', 'previous']);
    for (const key of after.keys) expect(listed.stdout).not.toContain(key.secret);
  });

  it('counts a staged key from when the key document was last written (it became current then), not from its createdAt', async () => {
    const { cwd, env, keyFile, path } = setup({
      scheme: 'hmac',
      hmac: { header: 'x-signature' },
      rotation: { mode: 'shared', every: '7d' },
    });
    expect((await cli(['rotate', 'src'], env, cwd)).code).toBe(0);
    const signing = keyFile().keys.find((k) => !k.next)?.id;
    // The staged key is ten minutes old, but the document holding it was written just now (a late promotion, an edit).
    writeFileSync(path, JSON.stringify({ keys: keyFile().keys.map((k) => ({ ...k, createdAt: (k.createdAt ?? 0) - 600 })) }));
    const ranAt = Date.now();
    const second = await cli(['rotate', 'src'], env, cwd);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(
      /staged key k-[0-9a-f]{8} for the next rotation; .*\(300 s\) and a margin \(60 s\): run rotate again after \S+\n/,
    );
    // When: from the document's write just before, not from the key's creation ten minutes ago.
    const readyAt = (stdout: string): number => Date.parse(/run rotate again after (\S+)\n/.exec(stdout)?.[1] ?? '');
    expect(readyAt(second.stdout) - ranAt).toBeGreaterThanOrEqual(359_000);
    expect(readyAt(second.stdout) - ranAt).toBeLessThanOrEqual(390_000);
    // Run again before then: the same time, as that rotation only staged and left the document as it was.
    const third = await cli(['rotate', 'src'], env, cwd);
    expect(readyAt(third.stdout)).toBe(readyAt(second.stdout));
    expect(keyFile().keys.find((k) => !k.next)?.id).toBe(signing);
  });

  it("waits for the running server's key cache period, not this shell's, before switching the sender", async () => {
    const { cwd, env, keyFile, path } = setup({
      scheme: 'hmac',
      hmac: { header: 'x-signature' },
      rotation: { mode: 'shared', every: '7d' },
    });
    // npm start caches the key document for 15 minutes; the shell running rotate has no WEBHOOK_SECRET_CACHE_SECONDS.
    const server = await startServer({ ...env, WEBHOOK_SECRET_CACHE_SECONDS: '900' }, cwd);
    try {
      const first = await cli(['rotate', 'src'], env, cwd);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/staged key k-[0-9a-f]{8} for the next rotation; .*\(900 s\)/);
      const signing = keyFile().keys.find((k) => !k.next)?.id;
      // Ten minutes later: past this shell's 300 s and its margin, inside the server's 900 s.
      ageTenMinutes(path, keyFile());
      const second = await cli(['rotate', 'src'], env, cwd);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(
        /staged key k-[0-9a-f]{8} for the next rotation; .*\(900 s\) and a margin \(60 s\): run rotate again after /,
      );
      expect(keyFile().keys.find((k) => !k.next)?.id).toBe(signing);
    } finally {
      server.process.kill('SIGTERM');
    }
  });

  // A damaged key file: a shared source's rotate said only 'secret is not a JSON document' (which file?), and a
  // manual one did too, through the generic handler.
  it.each([
    ['shared', { scheme: 'hmac', hmac: { header: 'x-signature' }, rotation: { mode: 'shared', every: '7d' } }, []],
    ['manual', { scheme: 'github' }, ['--secret-env', 'NEW_KEY']],
  ])('%s: names a damaged key file, never quoting it, and writes nothing', async (_, source, extra) => {
    const { cwd, env, path } = setup(source);
    mkdirSync(join(env.HOOKWARDEN_DATA_DIR, 'keys'), { recursive: true });
    const damaged = '{"keys":[{"secret":"ThisIsTheOldKey0123456789abcdef",}]}';
    writeFileSync(path, damaged);
    const r = await cli(['rotate', 'src', ...extra], { ...env, NEW_KEY: TEST_SECRETS.github }, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}: secret is not a JSON document`);
    expect(r.stderr).toMatch(/nothing was rotated: fix the file, or delete it/);
    expect(r.stderr).not.toMatch(/ThisIsTheOldKey/);
    expect(r.stderr).not.toContain(TEST_SECRETS.github);
    expect(readFileSync(path, 'utf8')).toBe(damaged);
    expect(existsSync(path.replace(/\.json$/, '.pending.json'))).toBe(false);
    // Failed under its lock: given back, and the rotation's own error is the one reported (above).
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('shared: never switches the sender to a staged key the server skips (edited by hand to a short one)', async () => {
    const { cwd, env, path } = setup({ scheme: 'hmac', hmac: { header: 'x-signature' }, rotation: { mode: 'shared', every: '7d' } });
    mkdirSync(join(env.HOOKWARDEN_DATA_DIR, 'keys'), { recursive: true });
    ageTenMinutes(path, {
      keys: [
        { id: 'k-current', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: Math.floor(Date.now() / 1000) },
        { id: 'k-short', secret: 'Sh0rtKey', createdAt: Math.floor(Date.now() / 1000), next: true },
      ],
    });
    const before = readFileSync(path, 'utf8');
    const r = await cli(['rotate', 'src'], env, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the staged key k-short has 8 bytes of key material; at least 16 are needed, so the functions skip it/);
    expect(r.stderr).not.toContain('Sh0rtKey');
    expect(readFileSync(path, 'utf8')).toBe(before);
  });
  // The emergency stop: every key removed. A shared rotation from it would stage a key and switch the sender to it,
  // undoing the stop; a manual one brings the provider's new key, the way back. `keys` said the document was malformed.
  it('an emptied key document: keys lists none, a shared rotate refuses it, a manual rotate brings the new key', async () => {
    const shared = setup({ scheme: 'hmac', hmac: { header: 'x-signature' }, rotation: { mode: 'shared', every: '7d' } });
    mkdirSync(join(shared.env.HOOKWARDEN_DATA_DIR, 'keys'), { recursive: true });
    writeFileSync(shared.path, '{"keys":[]}');
    const listed = await cli(['keys', 'src'], shared.env, shared.cwd);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/keys of source src \(.*\): none: every delivery is refused until a key is put back/);
    const refused = await cli(['rotate', 'src'], shared.env, shared.cwd);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/secret document lists no key .*nothing was rotated/);
    expect(readFileSync(shared.path, 'utf8')).toBe('{"keys":[]}');

    const manual = setup({ scheme: 'github' });
    mkdirSync(join(manual.env.HOOKWARDEN_DATA_DIR, 'keys'), { recursive: true });
    writeFileSync(manual.path, '{"keys":[]}');
    const r = await cli(['rotate', 'src', '--secret-env', 'NEW_KEY'], { ...manual.env, NEW_KEY: TEST_SECRETS.github }, manual.cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(manual.keyFile().keys.map((k) => k.secret)).toEqual([TEST_SECRETS.github]);
  });
});

// Two operators' `rotate` at the same moment each read the key document, and the second write dropped the first one's
// new key. A rotation now holds `<key file>.lock` (its process id) while it reads, plans and writes.
describe('hookwarden rotate on the local store, with another rotate running', () => {
  const manualRotation = async (lockHolder?: string, makeLock?: (lock: string) => void) => {
    const { cwd, env, keyFile, path } = setup({ scheme: 'github' });
    // A key document with a first provider key, then the lock.
    expect(
      (await cli(['rotate', 'src', '--secret-env', 'FIRST_KEY'], { ...env, FIRST_KEY: 'first-provider-key-0123456789' }, cwd)).code,
    ).toBe(0);
    const before = readFileSync(path, 'utf8');
    if (lockHolder !== undefined) writeFileSync(`${path}.lock`, lockHolder);
    makeLock?.(`${path}.lock`);
    const r = await cli(['rotate', 'src', '--secret-env', 'NEW_KEY'], { ...env, NEW_KEY: TEST_SECRETS.github }, cwd);
    return { r, before, after: readFileSync(path, 'utf8'), keyFile, lock: `${path}.lock` };
  };

  it('refuses while another rotate of the source runs, naming its process; nothing written', async () => {
    // This test's own process: one that runs.
    const { r, before, after, lock } = await manualRotation(String(process.pid));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`another hookwarden rotate of source src is running (process ${process.pid}); nothing was written`);
    expect(r.stderr).not.toContain(TEST_SECRETS.github);
    expect(after).toBe(before);
    // Still the other rotation's.
    expect(readFileSync(lock, 'utf8')).toBe(String(process.pid));
  });

  it('takes over the lock of a rotate that died midway, rotates, and gives it back', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const { r, keyFile, lock } = await manualRotation(String(gone));
    expect(r.code).toBe(0);
    expect(keyFile().keys[0]?.secret).toBe(TEST_SECRETS.github);
    expect(existsSync(lock)).toBe(false);
  });

  it('leaves no lock behind, after a rotation or a refused one', async () => {
    const { r, lock } = await manualRotation();
    expect(r.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  // Read as a file, a directory was "taken at the same moment" at every run (run again: the same), and a link to
  // /dev/zero was read until memory ran out.
  it.each([
    ['a directory', (lock: string) => mkdirSync(lock), 'a directory'],
    ['a link to /dev/zero', (lock: string) => symlinkSync('/dev/zero', lock), 'a symbolic link'],
    ['a link to nothing', (lock: string) => symlinkSync(`${lock}.gone`, lock), 'a symbolic link'],
  ])('names a lock that is %s, which it leaves; nothing written', async (_, makeLock, kind) => {
    const { r, before, after, lock } = await manualRotation(undefined, makeLock);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${lock} is ${kind}, not a lock file; nothing was written: remove it if no hookwarden rotate of source src runs, then run this one again`,
    );
    expect(after).toBe(before);
    expect(lstatSync(lock).isFile()).toBe(false);
  });

  it('refuses a lock written by a rotate on another machine (a container sharing the data directory), whose process it cannot see', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const { r, before, after, lock } = await manualRotation(`${gone} other-container 0b1d\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `another hookwarden rotate of source src may be running on other-container (process ${gone}), whose processes this machine cannot see; nothing was written`,
    );
    expect(after).toBe(before);
    expect(readFileSync(lock, 'utf8')).toBe(`${gone} other-container 0b1d\n`);
  });

  // The first rotate of a source made its key document before taking the lock: refused, it had still written one, and
  // two first rotates at once could each make one, the later replacing the earlier's rotated document.
  it('refused while another runs, writes no key document where there was none', async () => {
    const { cwd, env, path } = setup({ scheme: 'github' });
    mkdirSync(join(env.HOOKWARDEN_DATA_DIR, 'keys'), { recursive: true });
    writeFileSync(`${path}.lock`, String(process.pid));
    const r = await cli(['rotate', 'src', '--secret-env', 'NEW_KEY'], { ...env, NEW_KEY: TEST_SECRETS.github }, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`another hookwarden rotate of source src is running (process ${process.pid}); nothing was written`);
    expect(existsSync(path)).toBe(false);
  });

  it('the first rotate of a source makes its key directory, key document and lock, and gives the lock back', async () => {
    const { cwd, env, path, keyFile } = setup({
      scheme: 'hmac',
      hmac: { header: 'x-signature' },
      rotation: { mode: 'shared', every: '7d' },
    });
    const r = await cli(['rotate', 'src'], env, cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(keyFile().keys.length).toBeGreaterThanOrEqual(2);
    expect(statSync(join(env.HOOKWARDEN_DATA_DIR, 'keys')).mode & 0o777).toBe(0o700);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
