// Untrusted text inside lifetop's own output: JSON lines and messages (warnings, errors) that quote
// input. Pure, no I/O. The screen and .txt files use ui/sanitize instead; CSV has its scheme in
// output/snapshot.
//
// "Invisible" here: what JSON.stringify leaves raw although it can fool whoever reads the text:
//   U+007F-U+009F   DEL and C1 controls (U+009B is a one-byte CSI, U+0085 a line break)
//   U+2028, U+2029  line and paragraph separators
//   U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069  bidi controls (Trojan Source,
//                   CVE-2021-42574): they reorder what a terminal or editor shows
// Each becomes \uXXXX (4 lowercase hex digits). JSON.stringify already escapes C0, `"` and `\`.

/** One source for both regexes below, so the fast test and the replacement never disagree. */
const INVISIBLE_CLASS = '[\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069]';
const INVISIBLE = new RegExp(INVISIBLE_CLASS);
const INVISIBLE_ALL = new RegExp(INVISIBLE_CLASS, 'g');

/** True when escapeInvisible would change s. */
export function hasInvisible(s: string): boolean {
  return INVISIBLE.test(s);
}

/**
 * \u-escapes the invisible characters in JSON text. They can only occur inside strings (JSON's
 * own syntax is ASCII), so the result parses to the same value.
 */
export function escapeInvisible(json: string): string {
  return json.replace(INVISIBLE_ALL, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * A value as a message quotes it: JSON (a string in double quotes, `"` `\` and C0 escaped) with the
 * invisible characters \u-escaped too, so the message is one line and shows exactly what was there.
 */
export function quote(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined; // a BigInt or a cycle: never from JSON.parse
  }
  return escapeInvisible(json ?? JSON.stringify(String(value)));
}

/** A path as `path:line:` messages show it: bare when plain printable ASCII (no space, `"` or `\`), else quote(path). */
export function quotePath(path: string): string {
  return /^[!#-[\]-~]+$/.test(path) ? path : quote(path);
}
