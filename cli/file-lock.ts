import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { CommandFailed } from './context.js';

/** Whether a process of this machine runs as `pid` (one of another user's too: EPERM). */
export const processRuns = (pid: number): boolean => {
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
  /** Whether a process runs as `pid`. @default {@link processRuns} */
  readonly runs?: (pid: number) => boolean;
}

/**
 * Takes the lock file `lock`, holding this process's id, for a command that reads, plans and writes a file no other
 * may change meanwhile. A lock whose process is gone (a command killed midway) is taken over.
 * @returns what gives the lock back
 * @throws CommandFailed while another holds it
 */
export const lockFile = (lock: string, options: LockFileOptions): (() => void) => {
  const pid = options.pid ?? process.pid;
  const runs = options.runs ?? processRuns;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lock, String(pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(lock, 'utf8').trim());
    } catch {
      // Given back meanwhile: take it on the next attempt.
      continue;
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== pid && runs(holder))
      throw new CommandFailed(
        `another ${options.what} is running (process ${holder}); nothing was written: run this one once it has finished (if none runs, delete ${lock})`,
      );
    rmSync(lock, { force: true });
  }
  throw new CommandFailed(`another ${options.what} took its lock (${lock}) at the same moment; nothing was written: run this one again`);
};
