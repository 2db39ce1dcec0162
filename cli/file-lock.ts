import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { closeSync, constants, fstatSync, openSync, readSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { CommandFailed } from './context.js';

/** Whether a process of this machine runs as `pid` (one of another user's too: EPERM). */
const processRuns = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Options of {@link lockFile}. */
export interface LockFileOptions {
  /** What holds the lock, as messages name it: `hookwarden rotate of source src`. */
  readonly what: string;
  /** The id written into the lock. @default process.pid */
  readonly pid?: number;
  /** The machine written into the lock (a container's own name): another's processes are not seen here. @default os.hostname() */
  readonly host?: string;
  /** Whether a process runs as `pid`. @default {@link processRuns} */
  readonly runs?: (pid: number) => boolean;
}

/** A lock file as read: which file it was (a takeover removes that file, never one written since) and what it held. */
interface ReadLock {
  readonly dev: number;
  readonly ino: number;
  readonly text: string;
  /** Epoch milliseconds of its last write. */
  readonly writtenAtMs: number;
}

/** A lock's path holds something no lock command writes (a directory, a link): named, never removed. */
class NotALockFile extends Error {
  override readonly name = 'NotALockFile';
  constructor(
    readonly lock: string,
    readonly kind: string,
  ) {
    super(`${lock} is ${kind}, not a lock file`);
  }
}

/** The most of a lock file read: an id is a few characters. */
const LOCK_READ_BYTES = 256;

/** What a path that is no lock file is, as a refusal names it. */
const kindOf = (stats: Stats): string => {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  return 'a device';
};

/**
 * The lock file `lock` as it is now; `undefined` when there is none. Never followed (a link) nor waited on (a pipe).
 * @throws NotALockFile when it is no regular file: read as one, a directory or a link to nothing was "taken at the
 * same moment" at every run, and a link to `/dev/zero` was read until memory ran out
 */
const readLock = (lock: string): ReadLock | undefined => {
  let fd: number;
  try {
    // O_NOFOLLOW is not on Windows, whose links need privileges to make.
    fd = openSync(lock, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new NotALockFile(lock, 'a symbolic link');
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotALockFile(lock, kindOf(stats));
    const bytes = Buffer.alloc(LOCK_READ_BYTES);
    const read = readSync(fd, bytes, 0, LOCK_READ_BYTES, 0);
    return { dev: stats.dev, ino: stats.ino, text: bytes.subarray(0, read).toString('utf8'), writtenAtMs: stats.mtimeMs };
  } finally {
    closeSync(fd);
  }
};

const sameLock = (a: ReadLock | undefined, b: ReadLock): boolean =>
  a !== undefined && a.dev === b.dev && a.ino === b.ino && a.text === b.text;

/** The process a lock file names first, if it names one, and its machine when it says (a bare id is this machine's). */
const holderOf = (text: string): { readonly pid: number; readonly host?: string } | undefined => {
  const [, id, host] = /^\s*([0-9]{1,10})(?:\s+(\S+))?(?:\s|$)/.exec(text) ?? [];
  const pid = id === undefined ? Number.NaN : Number(id);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return host === undefined ? { pid } : { pid, host };
};

/** A machine's name as a lock holds it: one word, printable, short. */
const hostWord = (name: string): string => name.replace(/[^\x21-\x7e]/g, '-').slice(0, 64) || 'unknown';

/**
 * How long a lock file may hold no id before it is taken for one left so (a crash right after its creation): the
 * process that creates it writes its id at once, but a lock read in between is empty.
 */
const UNWRITTEN_LOCK_MS = 5_000;

/** How old a takeover's guard is when its process was killed within it (it holds it for microseconds). */
const ABANDONED_GUARD_MS = 10_000;

/**
 * Removes the stale lock `stale` was read as, and nothing else, under `<lock>.takeover`: two processes that read one
 * stale lock each removed what was there, the later one the lock the earlier had taken since, and both went on.
 * @returns `false` when another process is taking the lock over at this moment
 */
const takeOver = (lock: string, stale: ReadLock): boolean => {
  const guard = `${lock}.takeover`;
  try {
    writeFileSync(guard, '', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Left by a process killed within its takeover: removed for the next run (two removing it at once is left open).
    const since = statSync(guard, { throwIfNoEntry: false });
    if (since && Date.now() - since.mtimeMs > ABANDONED_GUARD_MS) rmSync(guard, { force: true });
    return false;
  }
  try {
    // Only takeovers remove a lock whose process is gone, one at a time: the file read as stale is still the one there.
    if (sameLock(readLock(lock), stale)) rmSync(lock, { force: true });
    return true;
  } finally {
    rmSync(guard, { force: true });
  }
};

/**
 * Removes `lock` if it is still the one this process wrote (`mine`); never throws. Removed whatever it was, the lock
 * another process took after this one's was deleted by hand (as a refusal says to when none seems to run) was removed
 * too, and a third ran beside that one; and a removal that failed replaced the locked command's own error or result.
 * A lock left behind is taken over once this process is gone.
 */
const giveBack = (lock: string, mine: string): void => {
  try {
    if (readLock(lock)?.text === mine) rmSync(lock, { force: true });
  } catch {
    // Left for the next run to take over.
  }
};

/**
 * Takes the lock file `lock`, holding this process's id, for a command that reads, plans and writes a file no other
 * may change meanwhile (its id, its machine's name and a random tag). A lock whose process is gone (a command killed
 * midway) is taken over, by one process at a time ({@link takeOver}); another machine's is never.
 * @returns what gives the lock back
 * @throws CommandFailed while another holds it
 */
export const lockFile = (lock: string, options: LockFileOptions): (() => void) => {
  try {
    return takeLock(lock, options);
  } catch (error) {
    if (!(error instanceof NotALockFile)) throw error;
    throw new CommandFailed(`${error.message}; nothing was written: remove it if no ${options.what} runs, then run this one again`);
  }
};

/** {@link lockFile}, which names a path that is no lock file. */
const takeLock = (lock: string, options: LockFileOptions): (() => void) => {
  const pid = options.pid ?? process.pid;
  const runs = options.runs ?? processRuns;
  const host = hostWord(options.host ?? hostname());
  // Its id, its machine, then what tells this lock from any other (a lock written since in a file that has the same
  // inode): given back, the lock is removed only while it is still this one.
  const mine = `${pid} ${host} ${randomUUID()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lock, mine, { flag: 'wx', mode: 0o600 });
      return () => giveBack(lock, mine);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const found = readLock(lock);
    // Given back meanwhile: take it on the next attempt.
    if (found === undefined) continue;
    const holder = holderOf(found.text);
    // Read between another process's creating it and writing its id: taken over as stale, both went on.
    if (holder === undefined && Math.abs(Date.now() - found.writtenAtMs) < UNWRITTEN_LOCK_MS) break;
    // Another machine's (a container sharing the data directory, often with this process's own id): its processes
    // are not seen from here, and its lock was taken over as stale while it ran. Refused: only its operator can tell.
    if (holder?.host !== undefined && holder.host !== host)
      throw new CommandFailed(
        `another ${options.what} may be running on ${holder.host} (process ${holder.pid}), whose processes this machine cannot see; nothing was written: run this one once it has finished (if none runs, delete ${lock})`,
      );
    if (holder !== undefined && holder.pid !== pid && runs(holder.pid))
      throw new CommandFailed(
        `another ${options.what} is running (process ${holder.pid}); nothing was written: run this one once it has finished (if none runs, delete ${lock})`,
      );
    if (!takeOver(lock, found)) break;
  }
  throw new CommandFailed(`another ${options.what} took its lock (${lock}) at the same moment; nothing was written: run this one again`);
};
