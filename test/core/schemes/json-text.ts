import fc from 'fast-check';

// Generators of JSON text written by hand, for the property tests of the schemes' body scans
// (Slack's event_id, the event type): escapes, whitespace, duplicate keys and nesting that
// JSON.stringify never writes, so each scan is checked against JSON.parse on text it may meet.

/** Each character of `text` written as itself or as a \u escape (either hex case): still the same JSON string. */
export const spellings = (text: string): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom('plain', 'plain', 'lower', 'upper'), { minLength: text.length, maxLength: text.length }).map((how) =>
    [...text]
      .map((ch, i) => {
        const hex = ch.charCodeAt(0).toString(16).padStart(4, '0');
        if (how[i] === 'lower') return `\\u${hex}`;
        if (how[i] === 'upper') return `\\u${hex.toUpperCase()}`;
        return ch === '"' || ch === '\\' ? `\\${ch}` : ch;
      })
      .join(''),
  );

/** JSON whitespace between tokens, mostly none. */
export const space = fc.constantFrom('', '', ' ', '\n', '\t', '\r\n', '  ');

/** A short printable id, the kind of string the scans return. */
export const idText = fc.stringMatching(/^[\x21-\x7e]{1,12}$/);

/** One object entry from its parts: space, key, space, `:`, space, value, space. */
export const entryText = ([a, k, b, c, v, d]: readonly [string, string, string, string, string, string]): string =>
  `${a}${k}${b}:${c}${v}${d}`;

/** An object from its entries, or from the space inside `{}` when it has none. */
export const objectText = (entries: readonly string[], inner: string): string => `{${entries.length === 0 ? inner : entries.join(',')}}`;

/** Objects, arrays and values nested from `keys` and `scalars`, up to `maxEntries` entries per object and 3 items per array. */
export const jsonValues = (keys: fc.Arbitrary<string>, scalars: fc.Arbitrary<string>, maxEntries: number) =>
  fc.letrec<{ object: string; value: string; array: string }>((tie) => ({
    object: fc
      .tuple(fc.array(fc.tuple(space, keys, space, space, tie('value'), space).map(entryText), { maxLength: maxEntries }), space)
      .map(([entries, inner]) => objectText(entries, inner)),
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalars, tie('object'), tie('array')),
    array: fc.array(tie('value'), { maxLength: 3 }).map((values) => `[${values.join(',')}]`),
  }));
