import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeadersFile } from '../../cli/headers-file.js';

const asObject = (map: ReadonlyMap<string, readonly string[]>) => Object.fromEntries(map);

describe('parseHeadersFile', () => {
  it('reads a capture: request line skipped, comments and blank lines ignored, names lower-cased, repeats kept', () => {
    const text =
      '\uFEFFPOST /webhooks/default HTTP/1.1\r\n# from the proxy log\r\n\r\nWebhook-Id: msg_1\r\nX-Multi: a\r\nx-multi: b\r\nEmpty:\r\nColons: a:b:c\r\n';
    expect(asObject(parseHeadersFile(text))).toEqual({ 'webhook-id': ['msg_1'], 'x-multi': ['a', 'b'], empty: [''], colons: ['a:b:c'] });
  });

  it('reads a JSON object of strings and arrays, merging names that differ in case', () => {
    const text = JSON.stringify({ 'Stripe-Signature': 't=1,v1=ab', 'x-multi': ['a', 'b'], 'X-Multi': 'c' });
    expect(asObject(parseHeadersFile(text))).toEqual({ 'stripe-signature': ['t=1,v1=ab'], 'x-multi': ['a', 'b', 'c'] });
  });

  it.each([
    ['no colon here', /line 1: expected "Name: value"/],
    ['a: 1\n: no name', /line 2: expected/],
    ['bad name: 1', /line 1: expected/],
    ['webhook-id: 1\nPOST /x HTTP/1.1', /line 2: expected/],
    ['{"a": 1}', /"a" must be a string or an array of strings/],
    ['{"a": ["x", null]}', /"a" must be a string/],
    ['{"a b": "x"}', /"a b" is not a header name/],
    ['["a: 1"]', /JSON must be an object/],
    ['{"a": ', /looks like JSON but does not parse/],
  ])('refuses %j', (text, message) => {
    expect(() => parseHeadersFile(text, 'h.txt')).toThrow(message);
  });

  it('does not echo the content of a bad line (it may hold a signature)', () => {
    expect(() => parseHeadersFile('v1,c2lnbmF0dXJlLXZhbHVl')).toThrow(/^headers file line 1: expected "Name: value"$/);
  });

  it('escapes a JSON name it refuses: a captured request must not drive the terminal through the error message', () => {
    const text = JSON.stringify({ '\u001b]0;owned\u0007\u001b[2J\u009b1m': 'x' });
    expect(() => parseHeadersFile(text, 'h.json')).toThrow('h.json: "\\x1b]0;owned\\x07\\x1b[2J\\x9b1m" is not a header name');
  });

  it('gives back every header written as lines, in order (property)', () => {
    // Any token, except that a line starting with # is a comment.
    const name = fc.stringMatching(/^[A-Za-z0-9!$%&'*+.^_`|~-][A-Za-z0-9!#$%&'*+.^_`|~-]{0,19}$/);
    const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,40}[\x21-\x7e])?$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), fc.boolean(), (headers, withRequestLine) => {
        const lines = headers.map(([n, v]) => `${n}: ${v}`);
        const parsed = parseHeadersFile([...(withRequestLine ? ['POST /webhooks/x HTTP/1.1'] : []), ...lines].join('\n'));
        const expected = new Map<string, string[]>();
        for (const [n, v] of headers) expected.set(n.toLowerCase(), [...(expected.get(n.toLowerCase()) ?? []), v]);
        expect(asObject(parsed)).toEqual(asObject(expected));
      }),
    );
  });
});
