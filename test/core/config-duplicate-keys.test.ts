import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateKeys } from '../../core/config/duplicate-keys.js';

describe('duplicateKeys', () => {
  it('finds none in any JSON.stringify output, however indented (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        expect(duplicateKeys(JSON.stringify(value, null, indent))).toEqual([]);
      }),
    );
  });

  it('names a key repeated in any object, however deep, as JSON reads the key', () => {
    expect(duplicateKeys('{"a":[{"b":1},{"b":2,"c":{"d":"\\"}","d":[]}}],"a":0}')).toEqual(['a[1].c.d', 'a']);
    expect(duplicateKeys('{"\\u0061":1,"a":2,"\\\\":3,"\\\\":4}')).toEqual(['a', '\\']);
    expect(duplicateKeys('[{"x":1},{"x":1}]')).toEqual([]);
  });
});
