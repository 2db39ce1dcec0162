/** One open object or array of the document, while {@link duplicateKeys} reads it. */
interface Frame {
  /** The keys seen so far; `undefined` for an array. */
  readonly keys: Set<string> | undefined;
  /** Where it is, as problems name it (`sources[0].hmac`); `''` for the document itself. */
  readonly path: string;
  /** The next string of an object is a key (after `{` or `,`), not a value (after `:`). */
  expectsKey: boolean;
  /** The last key of an object, or the position in an array: what an object or array opened inside it is called. */
  key: string;
  index: number;
}

const pathOf = (frame: Frame | undefined): string => {
  if (!frame) return '';
  if (frame.keys === undefined) return `${frame.path}[${frame.index}]`;
  return frame.path ? `${frame.path}.${frame.key}` : frame.key;
};

/**
 * The path of each key given twice in one object of a valid JSON text (`sources[0].allowedIps`), in document order.
 * `JSON.parse` keeps the last of two equal keys and says nothing: a second `"allowedIps": []` (a merge, a paste)
 * would drop an allowlist in silence. Keys are compared as JSON reads them (`"n\u0061me"` is `name`).
 * @param text a text `JSON.parse` has accepted (anything else gives no meaningful answer)
 */
export const duplicateKeys = (text: string): string[] => {
  const found: string[] = [];
  const stack: Frame[] = [];
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === '"') {
      let end = at + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectsKey) {
        const raw = text.slice(at + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        top.key = key;
        top.expectsKey = false;
        if (top.keys.has(key)) found.push(pathOf(top));
        top.keys.add(key);
      }
      at = end;
    } else if (char === '{' || char === '[') {
      const top = stack[stack.length - 1];
      stack.push({ keys: char === '{' ? new Set() : undefined, path: pathOf(top), expectsKey: true, key: '', index: 0 });
    } else if (char === '}' || char === ']') stack.pop();
    else if (char === ',') {
      const top = stack[stack.length - 1] as Frame;
      if (top.keys) top.expectsKey = true;
      else top.index += 1;
    }
  }
  return found;
};
