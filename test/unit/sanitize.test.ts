// The one sanitizer: control characters become visible escapes, tag braces are inert, widths are exact.
import { PassThrough } from 'node:stream';
import blessed from 'blessed';
import { describe, expect, it } from 'vitest';
import { clean, escapeTags, fit } from '../../src/core/sanitize';

describe('clean', () => {
  it('passes printable ASCII through untouched', () => {
    const s = 'python3 -m uvicorn app:main --port 8000 ~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./';
    expect(clean(s)).toBe(s);
  });

  it('shows C0, DEL and C1 controls as escapes', () => {
    expect(clean('\x1b[2J')).toBe('\\x1b[2J');
    expect(clean('a\nb\tc\rd')).toBe('a\\nb\\tc\\rd');
    expect(clean('\x00\x07\x7f')).toBe('\\x00\\x07\\x7f');
    expect(clean('\x9b2J\x85')).toBe('\\x9b2J\\x85');
    expect(clean('\x1b]0;owned\x07')).toBe('\\x1b]0;owned\\x07');
  });

  it('leaves no control character at all, for any code unit', () => {
    let all = '';
    for (let c = 0; c < 0x3000; c++) all += String.fromCharCode(c);
    expect(clean(all)).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });

  it('keeps narrow scripts and replaces wide, zero-width and invisible characters with ?', () => {
    expect(clean('café Ωμέγα привет')).toBe('café Ωμέγα привет');
    expect(clean('日本')).toBe('??');
    expect(clean('x😀y')).toBe('x?y'); // one astral character is one ?
    expect(clean('e\u0301')).toBe('e?'); // combining accent
    expect(clean('a\u202eb\u200bc\u00ad')).toBe('a?b?c?'); // bidi override, zero-width space, soft hyphen
    expect(clean('\u2028')).toBe('?');
    // Every bidi control (Trojan Source), not only U+202E: the same set JSON and CSV escape.
    expect(clean('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c')).toBe('?'.repeat(12));
    expect(clean('\ud800x')).toBe('?x'); // lone surrogate
  });

  it('makes string length equal to terminal cells', () => {
    for (const s of ['日本語テキスト', '😀😀', 'a\u0301\u0302', 'ok']) {
      const c = clean(s);
      expect(c.length).toBe([...c].length);
    }
  });
});

describe('tags', () => {
  it('escapes blessed tag braces', () => {
    expect(escapeTags('{bold}x{/bold}')).toBe('{open}bold{close}x{open}/bold{close}');
    expect(escapeTags(clean('\x1b{red-bg}'))).toBe('\\x1b{open}red-bg{close}');
  });
});

describe('fit', () => {
  it('pads or truncates to exactly the width, after cleaning', () => {
    expect(fit('abc', 5)).toBe('abc  ');
    expect(fit('abc', 5, 'right')).toBe('  abc');
    expect(fit('abcdef', 3)).toBe('abc');
    expect(fit('\x1b[2J', 6)).toBe('\\x1b[2');
    expect(fit('日本語', 4)).toBe('??? ');
    expect(fit('x', 0)).toBe('');
  });
});

describe('through a real blessed box', () => {
  function render(content: string): { text: string; written: string } {
    const output = Object.assign(new PassThrough(), { columns: 60, rows: 3, isTTY: true });
    const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
    let written = '';
    output.on('data', (d: Buffer) => { written += d.toString('utf8'); });
    const screen = blessed.screen({ input, output, terminal: 'xterm-256color', warnings: false });
    blessed.box({ parent: screen, tags: true, wrap: false, top: 0, left: 0, width: 60, height: 1, content });
    screen.render();
    // screen.lines (the cell buffer) is real blessed API that @types/blessed omits.
    const cells = (screen as unknown as { lines: [number, string][][] }).lines;
    const text = cells[0].map((cell) => cell[1]).join('').trimEnd();
    screen.destroy();
    return { text, written };
  }

  it('shows hostile text literally and sends none of its sequences to the terminal', () => {
    const hostile = '\x1b[2J{bold}\x1b]0;t\x07\x9b31m{red-fg}x';
    const { text, written } = render(escapeTags(clean(hostile)));
    expect(text).toBe('\\x1b[2J{bold}\\x1b]0;t\\x07\\x9b31m{red-fg}x');
    const body = written.slice(written.indexOf('\\x1b[2J'));
    expect(body).not.toContain('\x07');
    expect(body).not.toContain('\x9b');
    expect(body).not.toContain('\x1b]0;');
    expect(written).not.toMatch(/\x1b\[1m/); // {bold} was not applied
  });

  it('would have been interpreted without the sanitizer (the test can fail)', () => {
    const { text } = render('{bold}x\x1b[2J');
    expect(text).not.toContain('{bold}');
  });
});
