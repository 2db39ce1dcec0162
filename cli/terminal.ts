/**
 * C0 controls, DEL and C1 controls (U+0080–U+009F, where U+009B is a one-character CSI),
 * then the invisible characters that reorder or break what a terminal shows: the bidi
 * marks, embeddings, overrides and isolates (U+061C, U+200E–U+200F, U+202A–U+202E,
 * U+2066–U+2069; "Trojan Source") and the line and paragraph separators (U+2028–U+2029).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** The same, minus line feed and tab: what a multi-line body may keep. */
// eslint-disable-next-line no-control-regex -- as above
const CONTROLS_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** What `JSON.stringify` leaves raw of the above: DEL, C1 and the invisible ones. */
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `\xHH` for a control of the first 256 code points, `\u{HHHH}` beyond. */
const hex = (c: string): string => {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
};

/**
 * Text from a request (a header, an id, a body) made harmless for a terminal:
 * every C0, DEL and C1 control character becomes a visible `\xHH`, so an ESC,
 * OSC or CSI sequence in a delivery cannot move the cursor, rename the window
 * or fake a line; a bidi control or line separator becomes `\u{HHHH}`, so it
 * cannot reorder what is shown. `layout` keeps line feeds and tabs (bodies).
 * @example terminalSafe('a\u001b[2Jb') // 'a\\x1b[2Jb'
 */
export const terminalSafe = (text: string, options: { layout?: boolean } = {}): string =>
  text.replace(options.layout ? CONTROLS_BUT_LAYOUT : CONTROLS, hex);

/**
 * JSON for `--json`: `JSON.stringify` escapes C0 but leaves DEL, C1 and the bidi
 * controls raw; they become `\uXXXX`, the same value to any JSON reader.
 */
export const terminalSafeJson = (value: unknown): string =>
  JSON.stringify(value, null, 2).replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
