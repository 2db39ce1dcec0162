import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockFile } from '../../cli/file-lock.js';
import { emptyDir } from '../helpers/harness.js';

// Three ids standing for three processes; which of them runs is the test's to say (`runs`).
const DEAD = 4_000_001;
const FIRST = 4_000_002;
const SECOND = 4_000_003;
const what = 'hookwarden rotate of source src';

const holderOf = (lock: string): number => Number(readFileSync(lock, 'utf8').trim().split(/\s+/)[0]);

describe('lockFile', () => {
  it('two takeovers of one stale lock: the one that read it before the other took it over does not take it too', () => {
    const lock = join(emptyDir(), 'src.json.lock');
    writeFileSync(lock, String(DEAD));
    const running = new Set<number>();
    let first: (() => void) | undefined;
    // The second has read the dead process's id; before it acts on it, the first takes the same stale lock over.
    const runs = (pid: number): boolean => {
      if (pid === DEAD && first === undefined) {
        first = lockFile(lock, { what, pid: FIRST, runs: (p) => running.has(p) });
        running.add(FIRST);
      }
      return running.has(pid);
    };
    expect(() => lockFile(lock, { what, pid: SECOND, runs })).toThrow(`another ${what} is running (process ${FIRST}); nothing was written`);
    expect(first).toBeDefined();
    expect(holderOf(lock)).toBe(FIRST);
    first?.();
    expect(existsSync(lock)).toBe(false);
  });
});

describe('lockFile, a takeover under way', () => {
  it("refuses, leaving the stale lock, while another process's takeover holds <lock>.takeover; an abandoned one goes", () => {
    const lock = join(emptyDir(), 'src.json.lock');
    writeFileSync(lock, String(DEAD));
    writeFileSync(`${lock}.takeover`, '');
    const take = () => lockFile(lock, { what, pid: FIRST, runs: () => false });
    expect(take).toThrow(`another ${what} took its lock (${lock}) at the same moment; nothing was written: run this one again`);
    expect(holderOf(lock)).toBe(DEAD);
    // Its process killed within the takeover: removed once older than any takeover takes, and the next run takes over.
    const then = Date.now() / 1000 - 60;
    utimesSync(`${lock}.takeover`, then, then);
    expect(take).toThrow('at the same moment');
    expect(existsSync(`${lock}.takeover`)).toBe(false);
    const unlock = take();
    expect(holderOf(lock)).toBe(FIRST);
    unlock();
    expect(existsSync(lock)).toBe(false);
  });
});

describe('lockFile, given back', () => {
  it("gives back its own lock only: one another process took since (its own deleted by hand) stays that process's", () => {
    const lock = join(emptyDir(), 'src.json.lock');
    const unlockFirst = lockFile(lock, { what, pid: FIRST, runs: () => true });
    // The first seemed stuck, and its lock was deleted as the refusal says to; a second rotate took the lock.
    rmSync(lock);
    const unlockSecond = lockFile(lock, { what, pid: SECOND, runs: () => true });
    unlockFirst();
    expect(holderOf(lock)).toBe(SECOND);
    expect(() => lockFile(lock, { what, pid: DEAD, runs: (pid) => pid === SECOND })).toThrow(`(process ${SECOND})`);
    unlockSecond();
    expect(existsSync(lock)).toBe(false);
  });

  it('never throws, so that the error of the command it locked is the one reported', () => {
    const lock = join(emptyDir(), 'src.json.lock');
    const unlock = lockFile(lock, { what, pid: FIRST, runs: () => true });
    rmSync(lock);
    mkdirSync(lock);
    expect(unlock).not.toThrow();
    expect(existsSync(lock)).toBe(true);
  });
});

describe('lockFile, a lock that holds no id', () => {
  // Another process creates the lock, then writes its id into it: in between, it is empty.
  it.each([
    ['empty', ''],
    ['zeros (written by no process: a crash before its id reached the disk)', '\u0000\u0000\u0000\u0000'],
  ])('takes no lock that is %s and was written moments ago (another process is writing it)', (_, text) => {
    const lock = join(emptyDir(), 'src.json.lock');
    writeFileSync(lock, text);
    expect(() => lockFile(lock, { what, pid: FIRST, runs: () => false })).toThrow(
      `another ${what} took its lock (${lock}) at the same moment; nothing was written: run this one again`,
    );
    expect(readFileSync(lock, 'utf8')).toBe(text);
  });

  it('takes over a lock that holds no id once it is older than any write of one takes', () => {
    const lock = join(emptyDir(), 'src.json.lock');
    writeFileSync(lock, '');
    const then = Date.now() / 1000 - 60;
    utimesSync(lock, then, then);
    const unlock = lockFile(lock, { what, pid: FIRST, runs: () => false });
    expect(holderOf(lock)).toBe(FIRST);
    unlock();
  });
});

describe("lockFile, another machine's lock", () => {
  // Two containers sharing a data directory: each sees only its own processes, and each may run as the same id.
  it.each([
    ['an id no process here has', DEAD],
    ["this process's own id", FIRST],
  ])('never takes over one that names %s', (_, id) => {
    const lock = join(emptyDir(), 'src.json.lock');
    writeFileSync(lock, `${id} container-b 5f0c\n`);
    expect(() => lockFile(lock, { what, pid: FIRST, host: 'container-a', runs: () => false })).toThrow(
      `another ${what} may be running on container-b (process ${id}), whose processes this machine cannot see; nothing was written`,
    );
    expect(readFileSync(lock, 'utf8')).toBe(`${id} container-b 5f0c\n`);
  });

  it("takes over this machine's own, and a bare id (as written before machines were named), once its process is gone", () => {
    for (const text of [`${DEAD} container-a 5f0c\n`, String(DEAD)]) {
      const lock = join(emptyDir(), 'src.json.lock');
      writeFileSync(lock, text);
      const unlock = lockFile(lock, { what, pid: FIRST, host: 'container-a', runs: () => false });
      expect(readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${FIRST} container-a `));
      unlock();
    }
  });
});
