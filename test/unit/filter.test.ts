import { describe, expect, it } from 'vitest';
import { expectOneLineError } from '../support/errors';
import { COMM_MAX, compileFilter, DEFAULT_FILTER, FilterError, formatFilter, matchComm, MAX_PATTERNS, parseFilter } from '../../src/core/filter';

describe('parseFilter', () => {
  it('splits, trims and de-duplicates', () => {
    expect(parseFilter(' python* , uvicorn,python*,sleep ')).toEqual(['python*', 'uvicorn', 'sleep']);
    expect(parseFilter(DEFAULT_FILTER)).toEqual(['python*', 'uvicorn*']);
    expect(parseFilter('*')).toEqual(['*']);
    expect(parseFilter('Web Content')).toEqual(['Web Content']);
  });

  it('accepts exactly the limits', () => {
    expect(parseFilter('a'.repeat(COMM_MAX))).toHaveLength(1);
    expect(parseFilter('a'.repeat(COMM_MAX) + '*')).toHaveLength(1);
    const many = Array.from({ length: MAX_PATTERNS }, (_, i) => `p${i}`).join(',');
    expect(parseFilter(many)).toHaveLength(MAX_PATTERNS);
    expect(parseFilter(many + ',p0')).toHaveLength(MAX_PATTERNS);
  });

  const bad: [string, string, RegExp][] = [
    ['an empty list', '', /empty filter/],
    ['a blank list', '   ', /empty filter/],
    ['an empty pattern', 'python*,,uvicorn', /empty pattern/],
    ['a trailing comma', 'python*,', /empty pattern/],
    ['a pattern longer than 15 bytes', 'abcdefghijklmnop', /"abcdefghijklmnop" is longer than 15/],
    ['15 bytes of multibyte characters', 'ééééééééé', /longer than 15 bytes/],
    ['a star in the middle', 'py*thon', /"py\*thon": "\*" must be the last character/],
    ['a leading star', '*thon', /must be the last character/],
    ['two stars', '**', /must be the last character/],
    ['more than 16 patterns', Array.from({ length: MAX_PATTERNS + 1 }, (_, i) => `p${i}`).join(','), /too many patterns \(17\)/],
    ['an escape character', 'py\u001b[2J', /non-printable/],
    ['a newline', 'py\nthon', /non-printable/],
    ['a C1 control', 'py\u009bthon', /non-printable/],
    // The pattern is quoted escaped: the message itself carries no CSI or bidi override to stderr.
    ['a C1 control, quoted escaped', 'py\u009bthon', /^pattern "py\\u009bthon" contains a non-printable character$/],
    ['a bidi override, quoted escaped', 'p*y\u202e', /^"p\*y\\u202e": "\*" must be the last character$/],
  ];
  for (const [what, text, message] of bad) {
    it(`rejects ${what} with one line naming the problem`, () => {
      expectOneLineError(() => parseFilter(text), FilterError, message);
    });
  }
});

describe('matchComm', () => {
  it('matches prefixes, exact names and everything', () => {
    expect(matchComm(['python*'], 'python3.11')).toBe(true);
    expect(matchComm(['python*'], 'python')).toBe(true);
    expect(matchComm(['python*'], 'ipython')).toBe(false);
    expect(matchComm(['uvicorn'], 'uvicorn')).toBe(true);
    expect(matchComm(['uvicorn'], 'uvicorn2')).toBe(false);
    expect(matchComm(['sleep', 'uvicorn'], 'uvicorn')).toBe(true);
    expect(matchComm(['*'], '\u001b[2J')).toBe(true);
    expect(matchComm([], 'python3')).toBe(false);
  });
});

describe('formatFilter', () => {
  it('is the inverse of parseFilter', () => {
    expect(formatFilter(parseFilter(' python*, uvicorn '))).toBe('python*,uvicorn');
  });
});

describe('compileFilter (what the kernel stores)', () => {
  it('reads each pattern once: * is match-all, a trailing * a prefix, anything else exact', () => {
    expect(compileFilter(['python*', 'uvicorn', '*'])).toEqual({
      matchAll: true, patterns: [{ text: 'python', prefix: true }, { text: 'uvicorn', prefix: false }],
    });
    expect(compileFilter([])).toEqual({ matchAll: false, patterns: [] });
  });
});
