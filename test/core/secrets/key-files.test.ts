import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileKeyStore } from '../../../core/secrets/key-files.js';
import { emptyDir } from '../../helpers/harness.js';

describe('fileKeyStore: the local key document and its pending rotation', () => {
  // Two local rotations at once: the second overwrote the pending file, and the first one's promote did
  // nothing without a word, so it reported "rotated" with the document unchanged.
  it("refuses to promote when another rotation replaced this one's pending document, and promotes that one's", async () => {
    const path = join(emptyDir(), 'default.json');
    const store = fileKeyStore(path);
    await store.writePending('first', '{"keys":[{"secret":"one"}]}');
    await store.writePending('second', '{"keys":[{"secret":"two"}]}');
    await expect(store.promote('first')).rejects.toThrow(/another rotation of this source replaced this one's pending key document/);
    expect(existsSync(path)).toBe(false);
    await store.promote('second');
    expect(readFileSync(path, 'utf8')).toBe('{"keys":[{"secret":"two"}]}');
    // A repeated finish of the rotation that was promoted does nothing.
    await store.promote('second');
    expect(await store.readCurrent()).toBe('{"keys":[{"secret":"two"}]}');
  });

  // A hand-edited or damaged pending file: JSON.parse's message quoted ten characters around the error (a key), and
  // every later rotate failed with that message and no word of which file to fix.
  it.each([
    ['text that is not JSON', 'ThisIsTheKey0123456789abcdefghij'],
    ['JSON broken at the key', '{"token":"t","text":ThisIsTheKey0123456789abcdefghij}'],
    ['JSON without a string text', '{"token":"t","text":{"keys":[{"secret":"ThisIsTheKey0123456789abcdefghij"}]}}'],
  ])('names a pending file holding %s, never quoting it', async (_, damaged) => {
    const dir = emptyDir();
    const path = join(dir, 'default.json');
    const store = fileKeyStore(path);
    writeFileSync(join(dir, 'default.pending.json'), damaged);
    for (const step of [() => store.readPending('t'), () => store.promote('t')]) {
      const failure = await step().catch((error: unknown) => error as Error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toContain(join(dir, 'default.pending.json'));
      expect((failure as Error).message).toMatch(/delete it, which abandons only the rotation that wrote it/);
      expect((failure as Error).message).not.toMatch(/ThisIsTheKey/);
    }
  });
});
