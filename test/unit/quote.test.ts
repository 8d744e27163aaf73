import { describe, expect, it } from 'vitest';
import { escapeInvisible, quote, quotePath } from '../../src/core/quote';

/** Everything the quoting must never leave raw: C0, DEL, C1, line/paragraph separators, bidi controls. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const BIDI = [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];

describe('quote', () => {
  it('is JSON.stringify for ordinary values', () => {
    expect(quote('clone')).toBe('"clone"');
    expect(quote('a"b\\c\n\t\u0000\u001b')).toBe(JSON.stringify('a"b\\c\n\t\u0000\u001b'));
    expect(quote(5)).toBe('5');
    expect(quote(null)).toBe('null');
    expect(quote(['x', 1])).toBe('["x",1]');
    expect(quote('é😀')).toBe('"é😀"');
  });

  it('escapes C1, DEL, U+2028/2029 and every bidi control as lowercase \\uXXXX', () => {
    expect(quote('\u009b2J')).toBe('"\\u009b2J"');
    expect(quote('\u0085\u007f\u2028\u2029')).toBe('"\\u0085\\u007f\\u2028\\u2029"');
    for (const cp of BIDI) expect(quote(String.fromCharCode(cp))).toBe(`"\\u${cp.toString(16).padStart(4, '0')}"`);
    expect(quote({ type: 'a\u202eb' })).toBe('{"type":"a\\u202eb"}');
    expect(quote('\u202f\u2065\u206a')).toBe('"\u202f\u2065\u206a"'); // neighbours of the ranges stay
  });

  it('leaves nothing unsafe raw in any BMP character, and stays valid JSON', () => {
    let all = '';
    for (let cp = 0; cp <= 0xffff; cp++) if (cp < 0xd800 || cp > 0xdfff) all += String.fromCharCode(cp);
    const q = quote(all);
    expect(q).not.toMatch(UNSAFE);
    expect(JSON.parse(q)).toBe(all);
  });

  it('shows what JSON cannot hold as a quoted string', () => {
    expect(quote(undefined)).toBe('"undefined"');
    expect(quote(10n)).toBe('"10"');
  });
});

describe('quotePath', () => {
  it('leaves a plain path bare, so "file:line:" stays clickable', () => {
    expect(quotePath('/tmp/rec.ndjson')).toBe('/tmp/rec.ndjson');
    expect(quotePath('./a-b_c.1:2')).toBe('./a-b_c.1:2');
  });

  it('quotes anything else, escaped as quote() does', () => {
    expect(quotePath('/tmp/my rec.ndjson')).toBe('"/tmp/my rec.ndjson"');
    expect(quotePath('/tmp/\u202eevil\u009b\n.ndjson')).toBe('"/tmp/\\u202eevil\\u009b\\n.ndjson"');
    expect(quotePath('/tmp/a"b')).toBe('"/tmp/a\\"b"');
    expect(quotePath('C:\\x')).toBe('"C:\\\\x"');
    expect(quotePath('/tmp/é')).toBe('"/tmp/é"');
    expect(quotePath('')).toBe('""');
  });
});

describe('escapeInvisible', () => {
  it('escapes only what JSON.stringify leaves raw, so the JSON stays equal', () => {
    const doc = { a: '\u009b\u202e\u2066x\u2028', b: ['\u061c\u200e\u200f'] };
    const out = escapeInvisible(JSON.stringify(doc, null, 2));
    expect(out).not.toMatch(/[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/); // pretty-printed: LF is layout
    expect(out).toContain('"\\u009b\\u202e\\u2066x\\u2028"');
    expect(JSON.parse(out)).toEqual(doc);
  });
});
