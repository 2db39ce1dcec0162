import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileKeyStore } from '../../../core/secrets/key-files.js';
import { promotionWindowSeconds, rotationSteps } from '../../../core/secrets/rotation.js';
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

  // The file edited between finishSecret's check of the plan and the promotion: the promotion wrote over the edit.
  it('promotes only in place of the document the caller checked, never over an edit made since', async () => {
    const path = join(emptyDir(), 'default.json');
    const store = fileKeyStore(path);
    writeFileSync(path, '{"keys":[{"secret":"one"},{"secret":"leaked"}]}');
    await store.writePending('t', '{"keys":[{"secret":"two"},{"secret":"one"},{"secret":"leaked"}]}');
    const checked = await store.readCurrent();
    writeFileSync(path, '{"keys":[{"secret":"one"}]}');
    await expect(store.promote('t', checked)).rejects.toThrow(/changed after this rotation's plan was checked; nothing was promoted/);
    expect(readFileSync(path, 'utf8')).toBe('{"keys":[{"secret":"one"}]}');
    await store.promote('t', await store.readCurrent());
    expect(readFileSync(path, 'utf8')).toMatch(/"two"/);
  });

  // Two local rotate runs at once: the second one's pending file replaced the first one's, whose next step then said
  // "createSecret has not run", though it had.
  it("says another rotation replaced this one's pending document when a second run overwrote it", async () => {
    const path = join(emptyDir(), 'default.json');
    writeFileSync(path, JSON.stringify({ keys: [{ id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 }] }));
    const store = fileKeyStore(path);
    const steps = rotationSteps({ store, generate: () => 'FreshKey0123456789abcdefghijklmn', cacheSeconds: 300, overlapSeconds: 3600 });
    await steps.createSecret('first');
    await steps.createSecret('second');
    await expect(steps.setSecret('first')).rejects.toThrow(/another rotation of the source replaced or withdrew this one's/);
    await steps.setSecret('second');
    await steps.testSecret('second');
    await steps.finishSecret('second');
    expect(JSON.parse(readFileSync(path, 'utf8')).keys).toHaveLength(2);
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

/**
 * `hookwarden rotate` runs the same steps over the key files. A pending document planned before the key file changed
 * (an edit by hand, a leaked key removed) or a switch promoted long after its plan must not become current: the
 * edit would be undone, or the keys it retires would verify for less than the overlap.
 */
describe('rotationSteps over the key files: a plan that no longer holds is withdrawn', () => {
  const HOUR_AGO = Math.floor(Date.now() / 1000) - 3600;
  const setup = () => {
    const path = join(emptyDir(), 'src.json');
    writeFileSync(
      path,
      JSON.stringify({
        keys: [
          { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: HOUR_AGO },
          { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: HOUR_AGO, next: true },
          { id: 'k-0', secret: 'LeakedKey0123456789abcdefghijklm', createdAt: HOUR_AGO, notAfter: HOUR_AGO + 7200 },
        ],
      }),
    );
    // Current for an hour: the staged key is ready, so these rotations switch.
    utimesSync(path, HOUR_AGO, HOUR_AGO);
    let clock = Date.now();
    const store = fileKeyStore(path);
    const steps = rotationSteps({
      store,
      generate: () => 'GeneratedKey0123456789abcdefghij',
      cacheSeconds: 300,
      overlapSeconds: 3600,
      now: () => clock,
    });
    return { path, store, steps, pending: path.replace(/\.json$/, '.pending.json'), later: (seconds: number) => (clock += seconds * 1000) };
  };

  it('keeps the pending document of a token on a retried createSecret', async () => {
    const { steps, pending } = setup();
    await steps.createSecret('t1');
    const written = readFileSync(pending, 'utf8');
    await steps.createSecret('t1');
    expect(readFileSync(pending, 'utf8')).toBe(written);
  });

  it.each(['setSecret', 'finishSecret'] as const)(
    'withdraws at %s when the key file was edited after the plan, keeping the edit',
    async (step) => {
      const { path, steps, pending } = setup();
      await steps.createSecret('t1');
      const edited = JSON.stringify({
        keys: (JSON.parse(readFileSync(path, 'utf8')) as { keys: Array<{ id: string }> }).keys.filter((k) => k.id !== 'k-0'),
      });
      writeFileSync(path, edited);
      const failure = await steps[step]('t1').catch((error: unknown) => error as Error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/rotation t1: the current key document changed after this rotation planned from it/);
      expect((failure as Error).message).not.toMatch(/Key0123456789/);
      expect(readFileSync(path, 'utf8')).toBe(edited);
      expect(existsSync(pending)).toBe(false);
    },
  );

  it('withdraws a switch whose promotion comes past the window after its plan; within it, promotes with the whole overlap', async () => {
    const late = setup();
    const before = readFileSync(late.path, 'utf8');
    await late.steps.createSecret('t1');
    late.later(promotionWindowSeconds(3600) + 1);
    await expect(late.steps.finishSecret('t1')).rejects.toThrow(/to switch the provider, and finishSecret runs more than 300 s after/);
    expect(readFileSync(late.path, 'utf8')).toBe(before);
    expect(existsSync(late.pending)).toBe(false);

    const inTime = setup();
    await inTime.steps.createSecret('t1');
    const promotedAt = inTime.later(promotionWindowSeconds(3600)) / 1000;
    await inTime.steps.finishSecret('t1');
    const keys = (JSON.parse(readFileSync(inTime.path, 'utf8')) as { keys: Array<{ id: string; notAfter?: number }> }).keys;
    expect(keys[0]?.id).toBe('k-2');
    expect(keys.find((k) => k.id === 'k-1')?.notAfter).toBeGreaterThanOrEqual(Math.floor(promotedAt) + 3600);
  });
});
