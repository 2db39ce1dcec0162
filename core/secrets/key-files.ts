import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sameKeys } from './key-document.js';
import type { KeyDocumentStore } from './rotation.js';

/** The folder of the data directory that holds local key documents. */
export const KEY_FILES_DIR = 'keys';

/** Where a source's key document sits in the data directory: `<dataDir>/keys/<source>.json`. */
export const keyFilePath = (dataDir: string, source: string): string => join(dataDir, KEY_FILES_DIR, `${source}.json`);

const pendingPath = (path: string): string => path.replace(/\.json$/, '.pending.json');

/** Writes a file readable by its owner only (0600), atomically: a reader sees the old document or the new one. */
export const writePrivateFile = (path: string, text: string): void => {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
};

/** Reads a key file for the caching provider: its text, or the system error (ENOENT, EACCES) thrown. */
export const readKeyFile = (path: string): Promise<string> => readFile(path, 'utf8');

/**
 * A local key document as a {@link KeyDocumentStore}: the current document in
 * `<source>.json`, the pending one of a rotation in `<source>.pending.json`
 * (with its token), both 0600. The same format as the Secrets Manager secret.
 * The current document became current when its file was last written: its
 * modification time (a promotion that changes it, a manual rotation or an edit all rewrite it).
 */
export const fileKeyStore = (path: string): KeyDocumentStore => {
  const pending = pendingPath(path);
  const readPendingFile = (): { token: string; text: string } | undefined => {
    if (!existsSync(pending)) return undefined;
    let found: unknown;
    try {
      found = JSON.parse(readFileSync(pending, 'utf8'));
    } catch {
      // The parser's message quotes the text around the error: a key. Only the file is named.
      found = undefined;
    }
    const { token, text } = (found ?? {}) as { token?: unknown; text?: unknown };
    if (typeof token !== 'string' || typeof text !== 'string')
      throw new Error(
        `${pending} is not a pending key document {"token","text"} (damaged or edited): delete it, which abandons only the rotation that wrote it, and run rotate again`,
      );
    return { token, text };
  };
  return {
    readCurrent: async () => (existsSync(path) ? readFileSync(path, 'utf8') : undefined),
    readPending: async (token) => {
      const found = readPendingFile();
      return found?.token === token ? found.text : undefined;
    },
    writePending: async (token, text) => writePrivateFile(pending, JSON.stringify({ token, text })),
    promote: async (token, expectedCurrent) => {
      const found = readPendingFile();
      // Promoted already (a repeated finish): nothing to do. Another rotation's pending document: this one did not finish.
      if (found === undefined) return;
      if (found.token !== token)
        throw new Error("another rotation of this source replaced this one's pending key document before it finished: run rotate again");
      // Edited after the caller's check: writing over it would undo the edit.
      if (expectedCurrent !== undefined && (existsSync(path) ? readFileSync(path, 'utf8') : undefined) !== expectedCurrent)
        throw new Error(`${path} changed after this rotation's plan was checked; nothing was promoted: run rotate again`);
      // The same document (a rotation that only staged): the server has had it since the file was written, which a
      // rewrite would move to now, and a rotation run again after its wait would only stage again, for ever.
      // Compared by keys: the pending document also records its plan, which the current one need not.
      if (!existsSync(path) || !sameKeys(readFileSync(path, 'utf8'), found.text)) writePrivateFile(path, found.text);
      rmSync(pending, { force: true });
    },
    withdraw: async (token) => {
      if (readPendingFile()?.token === token) rmSync(pending, { force: true });
    },
    // Rounded up: never earlier than the write. A running server reads the file again within its cache period after it.
    currentSince: async () => (existsSync(path) ? Math.ceil(statSync(path).mtimeMs / 1000) : undefined),
  };
};
