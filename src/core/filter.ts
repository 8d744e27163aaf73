// Comm filter patterns: parse and validate what the user types, and match a comm
// the same way the kernel side does ("python*" prefix, "uvicorn" exact, "*" all).

import { quote } from './quote';

/** The kernel's filter map holds this many patterns. */
export const MAX_PATTERNS = 16;
/** TASK_COMM_LEN - 1: a longer pattern could never match a kernel comm. */
export const COMM_MAX = 15;
export const DEFAULT_FILTER = 'python*,uvicorn*';

export class FilterError extends Error {
  override name = 'FilterError';
}

// C0, DEL and C1 controls: invisible on screen and meaningless in a comm pattern.
const NON_PRINTABLE = /[\u0000-\u001f\u007f-\u009f]/;

/** Parses "python*, uvicorn" into validated, de-duplicated patterns; throws FilterError. */
export function parseFilter(text: string): string[] {
  if (text.trim() === '') throw new FilterError('empty filter: give at least one comm pattern, e.g. "python*"');
  const patterns: string[] = [];
  for (const raw of text.split(',')) {
    const pattern = raw.trim();
    checkPattern(pattern, text);
    if (!patterns.includes(pattern)) patterns.push(pattern);
  }
  if (patterns.length > MAX_PATTERNS) {
    throw new FilterError(`too many patterns (${patterns.length}): at most ${MAX_PATTERNS}`);
  }
  return patterns;
}

/** Unit patterns (--unit, the UI's unit prompt): the same syntax, no comm length limit. */
export const UNIT_MAX = 255;

/**
 * Parses a unit filter ("nginx.service,7f3a*") with the comm filter's syntax and checks; ''
 * (or only spaces) means no unit filter: null.
 */
export function parseUnitFilter(text: string): string[] | null {
  if (text.trim() === '') return null;
  const patterns: string[] = [];
  for (const raw of text.split(',')) {
    const pattern = raw.trim();
    checkPattern(pattern, text, UNIT_MAX, 'the longest cgroup name');
    if (!patterns.includes(pattern)) patterns.push(pattern);
  }
  if (patterns.length > MAX_PATTERNS) {
    throw new FilterError(`too many unit patterns (${patterns.length}): at most ${MAX_PATTERNS}`);
  }
  return patterns;
}

/** True when no unit filter is set, or the unit matches one of its patterns ("*" matches '' too). */
export function matchUnit(patterns: string[] | null, unit: string | undefined): boolean {
  return patterns === null || matchComm(patterns, unit ?? '');
}

function checkPattern(pattern: string, text: string, maxBytes = COMM_MAX, limit = "the kernel's comm limit"): void {
  if (pattern === '') throw new FilterError(`empty pattern in filter ${quote(text)}`);
  const shown = quote(pattern); // escaped: the pattern may hold a C1 or bidi control
  if (NON_PRINTABLE.test(pattern)) throw new FilterError(`pattern ${shown} contains a non-printable character`);
  const star = pattern.indexOf('*');
  if (star !== -1 && star !== pattern.length - 1) {
    throw new FilterError(`${shown}: "*" must be the last character`);
  }
  // Counted in bytes: the kernel comm is 15 bytes, not 15 characters.
  const stem = star === -1 ? pattern : pattern.slice(0, -1);
  if (Buffer.byteLength(stem, 'utf8') > maxBytes) {
    throw new FilterError(`pattern ${shown} is longer than ${maxBytes} bytes, ${limit}`);
  }
}

/** Patterns as the kernel stores them (bpf/lifecycle.h struct lt_pattern and lt_config.match_all). */
export interface CompiledFilter {
  matchAll: boolean;
  /** Without the trailing '*'; prefix: it had one. */
  patterns: { text: string; prefix: boolean }[];
}

/** The one reading of a pattern list, for the kernel: matchComm is the same rule on a comm. */
export function compileFilter(patterns: string[]): CompiledFilter {
  const out: CompiledFilter = { matchAll: false, patterns: [] };
  for (const p of patterns) {
    if (p === '*') out.matchAll = true;
    else out.patterns.push(p.endsWith('*') ? { text: p.slice(0, -1), prefix: true } : { text: p, prefix: false });
  }
  return out;
}

/** True when comm matches any pattern. */
export function matchComm(patterns: string[], comm: string): boolean {
  for (const p of patterns) {
    if (p.endsWith('*') ? comm.startsWith(p.slice(0, -1)) : comm === p) return true;
  }
  return false;
}

/**
 * The kernel's rule for what becomes traced, in one place for the sources that mirror it (/proc
 * polling, replay): a process whose comm matches at exec, or, following children, one forked by
 * a traced parent. A traced process stays traced until it exits.
 */
export function becomesTraced(filter: { patterns: string[]; followChildren: boolean }, comm: string, parentTraced: boolean): boolean {
  return matchComm(filter.patterns, comm) || (filter.followChildren && parentTraced);
}

/** The filter as the status bar and messages show it: `pid 42,python*`. */
export function describeFilter(filter: { patterns: string[]; pids?: number[] }): string {
  const parts = filter.pids && filter.pids.length > 0 ? [`pid ${filter.pids.join(',')}`] : [];
  return [...parts, ...filter.patterns].join(',');
}

export function formatFilter(patterns: string[]): string {
  return patterns.join(',');
}
