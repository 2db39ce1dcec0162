import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jsonPath, jsonStringAt } from '../../../core/schemes/json-scan.js';
import { slack, standardWebhooks, stripe } from '../../../core/schemes/index.js';
import { entryText, idText, jsonValues, objectText, space, spellings } from './json-text.js';

// The event type (and Slack's event_id, Stripe's id when it is not the first
// key) is read by a scan, not JSON.parse: these bodies are JSON text written by
// hand (escapes in keys and values, whitespace, duplicates, nesting), and the
// answer must always be the one JSON.parse would give.

const USABLE = /^[\x21-\x7e]{1,256}$/;
type Path = readonly [string, ...string[]];

/** What Hookwarden must read at `path`: JSON.parse's string there when usable, else nothing. */
const parsedStringAt = (text: string, path: Path): string | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' && USABLE.test(value) ? value : undefined;
};

const NAMES = ['type', 'event', 'id', 'event_id'] as const;
const key = fc.oneof(
  { arbitrary: fc.constantFrom(...NAMES).map((name) => `"${name}"`), weight: 6 },
  {
    arbitrary: fc
      .constantFrom(...NAMES)
      .chain(spellings)
      .map((s) => `"${s}"`),
    weight: 2,
  },
  fc.constantFrom('"types"', '"Type"', '"xtype"', '"type "', '"\\"type\\""', '"data"', '""'),
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
);
const scalar = fc.oneof(
  idText.map((s) => JSON.stringify(s)),
  idText.chain(spellings).map((s) => `"${s}"`),
  fc.constantFrom(
    '""',
    '42',
    '-1.5e3',
    'null',
    'true',
    'false',
    '"a\\"b"',
    '"a\\\\"',
    '"é"',
    '"a\\/b"',
    `"${'E'.repeat(256)}"`,
    `"${'E'.repeat(257)}"`,
    '"two words"',
    '"\\",\\"type\\":\\"INSTRING\\"}"',
    '"{\\"type\\":\\"INSTRING\\"}"',
    '"[{]}"',
  ),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.nat(1500).map((n) => `"${'x'.repeat(n)}"`),
);
const { value, object } = jsonValues(key, scalar, 5);
/** A usable string under a plain key, often, so the scan's own answer is exercised and not only the parser behind it. */
const wantedEntry = fc
  .tuple(
    space,
    fc.constantFrom(...NAMES).map((name) => `"${name}"`),
    space,
    space,
    fc.oneof(
      idText.map((s) => JSON.stringify(s)),
      object,
    ),
    space,
  )
  .map(entryText);
const entry = fc.oneof(fc.tuple(space, key, space, space, value, space).map(entryText), { arbitrary: wantedEntry, weight: 2 });
const root = fc.tuple(fc.array(entry, { maxLength: 7 }), space).map(([entries, inner]) => objectText(entries, inner));
const body = fc.oneof({ arbitrary: fc.tuple(space, root, space).map(([a, o, b]) => `${a}${o}${b}`), weight: 8 }, value);
/** The scan's answer at `path`. */
const scanAt = (text: string, path: Path): string | undefined => jsonStringAt(Buffer.from(text), jsonPath(path[0], ...path.slice(1)));
const PATHS: readonly Path[] = [['type'], ['event', 'type'], ['event_id'], ['id']];

describe('jsonStringAt agrees with JSON.parse', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['the first key', '{"type":"invoice.paid","data":{"type":"nested"}}', ['type'], 'invoice.paid'],
    [
      'the last key, as Stripe writes it',
      '{"id":"evt_1","data":{"object":{"type":"card"}},"type":"invoice.paid"}',
      ['type'],
      'invoice.paid',
    ],
    ['a nested path', '{"token":"t","event":{"type":"app_mention","text":"hi"},"type":"event_callback"}', ['event', 'type'], 'app_mention'],
    ['a plain duplicate: the last wins', '{"type":"first","type":"last"}', ['type'], 'last'],
    ['a later duplicate that is not a string', '{"type":"first","type":7}', ['type'], undefined],
    ['a later duplicate spelled with an escape', '{"type":"first","\\u0074ype":"last"}', ['type'], 'last'],
    ['an earlier escaped key, the plain one last', '{"\\u0074ype":"first","type":"last"}', ['type'], 'last'],
    ['an escaped value', '{"type":"in\\u0076oice.paid"}', ['type'], 'invoice.paid'],
    ['an escape that makes the value unusable', '{"type":"two\\u0020words"}', ['type'], undefined],
    ['the key text inside a string value', '{"note":"\\"type\\":\\"FAKE\\"","type":"real"}', ['type'], 'real'],
    ['the key only inside a string value', '{"note":"{\\"type\\":\\"FAKE\\"}"}', ['type'], undefined],
    ['nested only', '{"data":{"type":"nested"}}', ['type'], undefined],
    ['a later duplicate of the path object', '{"event":{"type":"a"},"event":{"text":"no type"}}', ['event', 'type'], undefined],
    ['the path object not an object', '{"event":"app_mention"}', ['event', 'type'], undefined],
    ['an array body', '[{"type":"x"}]', ['type'], undefined],
    ['a byte order mark', '\ufeff{"type":"x"}', ['type'], undefined],
    ['trailing text', '{"type":"x"} y', ['type'], undefined],
    ['two objects', '{"type":"x"}{"type":"y"}', ['type'], undefined],
    ['an unterminated string', '{"type":"x","note":"abc}', ['type'], undefined],
    ['an unclosed object', '{"type":"x","data":{"a":1}', ['type'], undefined],
    ['a trailing comma', '{"type":"x",}', ['type'], undefined],
    ['a missing value', '{"note":,"type":"x"}', ['type'], undefined],
    ['a raw control character in the value', '{"type":"a\tb"}', ['type'], undefined],
    ['a form body', 'token=abc&type=x', ['type'], undefined],
    ['an empty body', '', ['type'], undefined],
    ['257 characters', `{"type":"${'a'.repeat(257)}"}`, ['type'], undefined],
  ] as const)('%s', (_name, text, path, expected) => {
    expect(parsedStringAt(text, path)).toBe(expected);
    expect(scanAt(text, path)).toBe(expected);
  });

  it('for generated JSON text: escapes in keys and values, whitespace, duplicates, nesting (property)', () => {
    const parse = vi.spyOn(JSON, 'parse');
    let runs = 0;
    let scanned = 0;
    fc.assert(
      fc.property(body, fc.constantFrom(...PATHS), (text, path) => {
        const before = parse.mock.calls.length;
        const found = scanAt(text, path);
        runs++;
        if (parse.mock.calls.length === before) scanned++;
        expect(found).toBe(parsedStringAt(text, path));
      }),
      { numRuns: 3000 },
    );
    // Most answers are the scan's own, so it is what these runs test, not the parser behind it.
    expect(scanned / runs).toBeGreaterThan(0.6);
  });

  it('never throws on broken text, and agrees with JSON.parse whenever the text still parses (property)', () => {
    const broken = fc
      .tuple(body, fc.nat(), fc.constantFrom('', '"', '\\', '{', '}', '[', ']', ',', ':', 'x', ' '))
      .map(([text, at, insert]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        return text.slice(0, i) + insert + text.slice(i + 1);
      });
    fc.assert(
      fc.property(broken, fc.constantFrom(...PATHS), (text, path) => {
        const scanned = scanAt(text, path);
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        if (parses) expect(scanned).toBe(parsedStringAt(text, path));
      }),
      { numRuns: 3000 },
    );
  });

  it('deep nesting is stepped over without recursion', () => {
    const deep = `{"data":${'['.repeat(100_000)}${']'.repeat(100_000)},"type":"deep"}`;
    expect(jsonStringAt(Buffer.from(deep), jsonPath('type'))).toBe('deep');
  });

  it("reads the providers' bodies without JSON.parse", () => {
    const parse = vi.spyOn(JSON, 'parse');
    const note = 'x'.repeat(64 * 1024);
    const standard = Buffer.from(
      `{"type":"user.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"type":"nested","note":"${note}"}}`,
    );
    const stripeEvent = Buffer.from(
      `{\n  "id": "evt_1",\n  "object": "event",\n  "data": {\n    "object": {"object": "invoice", "note": "${note}"}\n  },\n  "type": "invoice.paid"\n}`,
    );
    const slackEvent = Buffer.from(
      `{"token":"t","event":{"type":"app_mention","text":"${note}"},"type":"event_callback","event_id":"Ev1","event_time":1}`,
    );
    expect(standardWebhooks.eventTypeOf?.({ headers: new Map(), body: standard })).toBe('user.created');
    expect(stripe.eventTypeOf?.({ headers: new Map(), body: stripeEvent })).toBe('invoice.paid');
    expect(slack.eventTypeOf?.({ headers: new Map(), body: slackEvent })).toBe('app_mention');
    expect(parse).not.toHaveBeenCalled();
  });
});
