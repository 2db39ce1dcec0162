/** C0 controls, DEL and C1 controls (U+0080–U+009F, where U+009B is a one-character CSI). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
/** The same, minus line feed and tab: what a multi-line body may keep. */
// eslint-disable-next-line no-control-regex -- as above
const CONTROLS_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

const hex = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/**
 * Text from a request (a header, an id, a body) made harmless for a terminal:
 * every C0, DEL and C1 control character becomes a visible `\xHH`, so an ESC,
 * OSC or CSI sequence in a delivery cannot move the cursor, rename the window
 * or fake a line. `layout` keeps line feeds and tabs (bodies).
 * @example terminalSafe('a\u001b[2Jb') // 'a\\x1b[2Jb'
 */
export const terminalSafe = (text: string, options: { layout?: boolean } = {}): string =>
  text.replace(options.layout ? CONTROLS_BUT_LAYOUT : CONTROLS, hex);

/**
 * JSON for `--json`: `JSON.stringify` escapes C0 but leaves DEL and C1 raw;
 * they become `\u00XX`, the same value to any JSON reader.
 */
export const terminalSafeJson = (value: unknown): string =>
  JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * One-line JSON (`tail --json`, one object per line): like
 * {@link terminalSafeJson} but compact.
 */
export const terminalSafeJsonLine = (value: unknown): string =>
  JSON.stringify(value).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
