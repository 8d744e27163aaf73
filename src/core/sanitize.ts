// The one sanitizer for untrusted strings (comm, filename, args, paths) before blessed sees them.
// Output is printable text where every UTF-16 unit is exactly one terminal cell, so widths are string lengths.

/**
 * Code point ranges kept as-is beyond printable ASCII: scripts and symbols that terminals and blessed
 * (without fullUnicode) agree are one cell wide. Everything else that is printable becomes `?`: wide CJK,
 * emoji and other astral characters (blessed measures them wrong), combining marks (zero width), bidi
 * overrides and invisible format characters (they could disguise a command line).
 */
const NARROW_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x00a0, 0x00ac], // Latin-1 (U+00AD soft hyphen is invisible)
  [0x00ae, 0x02ff], // Latin-1, Latin Extended A/B, IPA, spacing modifiers
  [0x0370, 0x0482], // Greek, Cyrillic (U+0483-U+0489 are combining)
  [0x048a, 0x04ff],
  [0x2010, 0x2027], // dashes, quotes, bullet, ellipsis
  [0x2030, 0x205e], // per-mille, primes, guillemets
  [0x20a0, 0x20c0], // currency
  [0x2190, 0x21ff], // arrows
  [0x2500, 0x25fc], // box drawing, blocks, geometric shapes (U+25FD/25FE are wide emoji)
];

const PLAIN = /^[\x20-\x7e]*$/;

function isNarrow(cp: number): boolean {
  for (const [lo, hi] of NARROW_RANGES) {
    if (cp >= lo && cp <= hi) return true;
  }
  return false;
}

function escapeControl(cp: number): string {
  if (cp === 0x0a) return '\\n';
  if (cp === 0x09) return '\\t';
  if (cp === 0x0d) return '\\r';
  return '\\x' + cp.toString(16).padStart(2, '0');
}

/** Untrusted text → visible, one-cell-per-character text (no tag escaping: for boxes without tags). */
export function clean(s: string): string {
  if (PLAIN.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) out += escapeControl(cp);
    else out += isNarrow(cp) ? ch : '?';
  }
  return out;
}

/** Escape blessed tag braces; apply to text that is already clean. */
export function escapeTags(s: string): string {
  return s.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

/** Clean, then truncate or pad to exactly `width` cells (no tag escaping). */
export function fit(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const c = clean(s);
  if (c.length >= width) return c.slice(0, width);
  return align === 'left' ? c.padEnd(width) : c.padStart(width);
}
