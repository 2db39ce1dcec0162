import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { slack } from '../../../core/schemes/index.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';
import { NOW, signedIdOf, verifyWith } from './fixtures.js';
import { entryText, idText, jsonValues, objectText, space, spellings } from './json-text.js';

// Slack's event_id is read by a scan of the root object, not JSON.parse: these
// bodies are JSON text written by hand (escapes in keys, whitespace, duplicate
// and nested keys), and the id must always be the one JSON.parse would give.

const SECRET = TEST_SECRETS.slack;
const ID = /^[\x21-\x7e]{1,256}$/;

/** The id Hookwarden must key a Slack delivery with: JSON.parse's root event_id when usable, else the signed bytes' hash. */
const expectedId = (body: string): string => {
  const parsed: unknown = JSON.parse(body);
  const id =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>).event_id : undefined;
  return typeof id === 'string' && ID.test(id) ? id : signedIdOf(`v0:${NOW}:${body}`);
};

const idOf = (body: string): string | false => {
  const result = verifyWith(slack, [SECRET], slack.sign(SECRET, { body: Buffer.from(body), timestampSeconds: NOW }), body);
  return result.ok && result.deliveryId;
};

const key = fc.oneof(
  { arbitrary: fc.constant('"event_id"'), weight: 4 },
  { arbitrary: spellings('event_id').map((s) => `"${s}"`), weight: 2 },
  fc.constantFrom('"event"', '"event_idx"', '"xevent_id"', '"event_id "', '"type"', '"\\"event_id\\""'),
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
);
const scalar = fc.oneof(
  idText.map((s) => JSON.stringify(s)),
  idText.chain(spellings).map((s) => `"${s}"`),
  fc.constantFrom(
    '""',
    '42',
    'null',
    'true',
    '"Ev\\"Q"',
    '"Ev\\\\"',
    '"é"',
    `"${'E'.repeat(257)}"`,
    '"Ev ID"',
    '"\\",\\"event_id\\":\\"EvINSTRING\\"}"',
  ),
  fc.jsonValue({ maxDepth: 1 }).map((v) => JSON.stringify(v)),
  fc.nat(1500).map((n) => `"${'x'.repeat(n)}"`),
);
const { value } = jsonValues(key, scalar, 4);
const entry = fc.tuple(space, key, space, space, value, space).map(entryText);
/** A root object; most hold a root event_id with a usable id (plain key, mostly), so the scan's own answer is exercised, not only the fallback. */
const root = fc
  .tuple(
    fc.array(entry, { maxLength: 4 }),
    fc.option(
      fc
        .tuple(
          space,
          fc.oneof({ arbitrary: fc.constant('"event_id"'), weight: 5 }, key),
          space,
          space,
          idText.map((s) => JSON.stringify(s)),
          space,
        )
        .map(entryText),
      { freq: 4 },
    ),
    fc.array(entry, { maxLength: 3 }),
    space,
  )
  .map(([before, id, after, inner]) => objectText([...before, ...(id === null ? [] : [id]), ...after], inner));
const body = fc.tuple(space, root, space).map(([a, o, b]) => `${a}${o}${b}`);

describe('slack: the event_id scan agrees with JSON.parse', () => {
  it.each([
    ['a later duplicate spelled with an escape', '{"event_id":"EvFIRST","\\u0065vent_id":"EvLAST"}'],
    ['a later duplicate spelled with upper-case hex', '{"event_id":"EvFIRST", "event\\u005Fid" : "EvLAST" }'],
    ['a later escaped duplicate after a nested object', '{"event_id":"EvFIRST","event":{"event_id":"EvNESTED"},"\\u0065vent_id":"EvLAST"}'],
    ['an earlier escaped key, the plain one last', '{"\\u0065vent_id":"EvFIRST","event_id":"EvLAST"}'],
    ['only an escaped key', '{"type":"x","event_\\u0069d":"EvESCAPED"}'],
    ['a plain duplicate', '{"event_id":"EvFIRST","event_id":"EvLAST"}'],
    ['a later duplicate that is not a string', '{"event_id":"EvFIRST","\\u0065vent_id":7}'],
    ['the key text inside a string value', '{"event_id":"EvROOT","text":"\\"event_id\\":\\"EvFAKE\\""}'],
    ['the key text inside a later string value', '{"text":"x\\\\","event_id":"EvROOT","more":"\\\\\\"event_id\\\\\\":\\"EvFAKE\\""}'],
    ['nested only, with whitespace', '{ "event" : { "event_id" : "EvNESTED" } }'],
  ])('%s', (_name, text) => {
    expect(idOf(text)).toBe(expectedId(text));
  });

  it('finds the key at every distance from the end, across the hand-over to the native search at 512 bytes', () => {
    for (let tail = 0; tail <= 1100; tail += tail < 460 || tail > 560 ? 37 : 1) {
      const text = `{"event":{"type":"message"},"event_id":"Ev${tail}","note":"${'x'.repeat(tail)}"}`;
      expect(idOf(text)).toBe(`Ev${tail}`);
      // A decoy later in a string value is never the key.
      const decoy = `{"event_id":"Ev${tail}","note":"${'e'.repeat(tail)}\\"event_id\\""}`;
      expect(idOf(decoy)).toBe(expectedId(decoy));
    }
  });

  it('checks the root strings after event_id for escapes within each string, not with a search to the end for each (quadratic)', () => {
    // 20,000 root keys after event_id and no backslash: a search per string read the rest of the body
    // each time (66 ms for this 249 KB body against 7 ms, most of it the HMAC). Counted, not timed.
    const text = `{"type":"event_callback","event_id":"EvEARLY",${Array.from({ length: 20_000 }, (_, i) => `"k${i}":"v"`).join(',')}}`;
    const indexOf = vi.spyOn(Buffer.prototype, 'indexOf');
    try {
      expect(idOf(text)).toBe('EvEARLY');
      expect(indexOf.mock.calls.length).toBeLessThan(100);
    } finally {
      indexOf.mockRestore();
    }
  });

  it('for generated JSON text: escapes in keys and values, whitespace, duplicates, nesting (property)', () => {
    fc.assert(
      fc.property(body, (text) => {
        expect(idOf(text)).toBe(expectedId(text));
      }),
      { numRuns: 1000 },
    );
  });
});
