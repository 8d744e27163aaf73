import { describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../../src/cliArgs';
import { expectOneLineError } from '../support/errors';

const env = {};

describe('parseCli', () => {
  it('defaults to the UI tracing python and uvicorn with children', () => {
    const o = parseCli([], env);
    expect(o.mode).toBe('ui');
    expect(o.filter).toEqual({ patterns: ['python*', 'uvicorn*'], followChildren: true });
    expect(o.source).toBe('bpf');
    expect(o.replaySpeed).toBe('realtime');
    expect(o.retentionMs).toBe(10_000);
    expect(o.maxRows).toBe(50_000);
    expect(o.ringBytes).toBe(2 << 20);
    // Both spellings --help uses: a decimal and the fraction it names as the smallest.
    expect(parseCli(['--ring-size', '1/256'], env).ringBytes).toBe(4096);
    expect(parseCli(['--ring-size', '1/64'], env).ringBytes).toBe(16384);
    expect(parseCli(['--ring-size', '0.015625'], env).ringBytes).toBe(16384);
    expect(parseCli(['--ring-size', '1024'], env).ringBytes).toBe(1 << 30);
    expect(o.sort).toEqual({ column: 'started', descending: true });
    expect(o.color).toBe(true);
  });

  it('parses the headless modes and their options', () => {
    const j = parseCli(['--json', '-f', 'uvicorn,gunicorn*', '--no-children', '--duration', '1.5'], env);
    expect(j).toMatchObject({ mode: 'json', durationSec: 1.5, replaySpeed: 'max' });
    expect(j.filter).toEqual({ patterns: ['uvicorn', 'gunicorn*'], followChildren: false });
    const s = parseCli(['--snapshot', 'out.csv', '--sort', 'cpu:desc'], env);
    expect(s).toMatchObject({ mode: 'snapshot', snapshotPath: 'out.csv', durationSec: 2 });
    expect(s.sort).toEqual({ column: 'cpu', descending: true });
    expect(parseCli(['--replay', 'x.ndjson', '--replay-speed', '10'], env)).toMatchObject({ source: 'replay', replaySpeed: 10 });
    expect(parseCli(['--source', 'proc', '--interval', '0.2'], env)).toMatchObject({ source: 'proc', intervalMs: 200 });
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--filter', ''], /--filter: empty filter/],
    [['--filter', 'a*b'], /must be the last character/],
    [['--filter', 'abcdefghijklmnopq'], /longer than 15/],
    [['--json', '--snapshot', 'a.json'], /cannot be combined/],
    [['--snapshot', 'a.xml'], /--snapshot: unknown snapshot format/],
    [['--duration', '0'], /--duration needs a positive number/],
    [['--duration', 'soon'], /--duration needs a positive number/],
    // Hostile numbers: named, bounded, never a Node warning or a core burnt.
    [['--duration', '-1'], /--duration needs a positive number, got "-1"/],
    [['--duration', '99999999999'], /--duration must be at most 2147483 seconds/],
    [['--retention', '1e12'], /--retention must be at most 2147483 seconds/],
    [['--interval', '1e-9'], /--interval must be at least 0.01 seconds/],
    [['--replay', 'x', '--replay-speed', '1e-300'], /--replay-speed must be at least 0.001/],
    [['--ring-size', '0.0009765625'], /--ring-size must be a power of two in MiB from 1\/256/],
    [['--source', 'kernel'], /--source must be one of bpf, proc/],
    [['--pid', '0'], /--pid needs process ids/],
    [['--pid', '12,x'], /--pid needs process ids/],
    [['--pid', '12', '--replay', 'r.ndjson'], /--pid and --replay cannot be combined/],
    [['--replay', 'x', '--source', 'proc'], /cannot be combined/],
    [['--ring-size', '3'], /power of two/],
    [['--ring-size', '1/512'], /power of two in MiB from 1\/256/],
    [['--ring-size', '1/0'], /--ring-size needs a positive number, got "1\/0"/],
    [['--ring-size', '0/4'], /--ring-size needs a positive number/],
    [['--ring-size', '1/3'], /power of two/],
    [['--sort', 'size'], /--sort must be COLUMN/],
    [['--on-bad-line', 'ignore'], /skip, abort/],
    [['stray'], /positional/i],
  ])('rejects %j with one line', (argv, message) => {
    expectOneLineError(() => parseCli(argv, env), UsageError, message);
  });

  it('escapes what node:util quotes of a bad option or a stray argument (no raw ESC or bidi control)', () => {
    for (const argv of [['--x\x1b[2J\u202e'], ['stray\x1b[2J\u202e']]) {
      let message = '';
      try {
        parseCli(argv, env);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/\\u001b\[2J\\u202e/);
      expect(message).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
    }
  });

  it('collects a replay snapshot to the end of the recording, not for a default 2 s', () => {
    expect(parseCli(['--snapshot', 'a.json', '--replay', 'r.ndjson'], env).durationSec).toBeUndefined();
    expect(parseCli(['--snapshot', 'a.json'], env).durationSec).toBe(2);
  });

  it('--pid makes the named processes the roots: no comm matches unless -f is given too', () => {
    expect(parseCli(['--pid', '42,4242,42'], env).filter).toEqual({ patterns: [], followChildren: true, pids: [42, 4242] });
    expect(parseCli(['--pid', '42', '-f', 'uvicorn*', '--no-children'], env).filter)
      .toEqual({ patterns: ['uvicorn*'], followChildren: false, pids: [42] });
  });

  it('turns colour off for --no-color and for NO_COLOR', () => {
    expect(parseCli(['--no-color'], env).color).toBe(false);
    expect(parseCli([], { NO_COLOR: '1' }).color).toBe(false);
    expect(parseCli([], { NO_COLOR: '' }).color).toBe(true);
  });

  it('recognises help and version', () => {
    expect(parseCli(['-h'], env).mode).toBe('help');
    expect(parseCli(['--version'], env).mode).toBe('version');
  });
});

describe('launch mode (-- COMMAND)', () => {
  it('takes everything after -- as the command, its options untouched', () => {
    const o = parseCli(['--json', '--', 'python3', '-f', 'x', '--json', '--'], env);
    expect(o).toMatchObject({ mode: 'json', command: ['python3', '-f', 'x', '--json', '--'], asRoot: false, filterGiven: false });
    expect(parseCli(['--as-root', '--', 'id'], env)).toMatchObject({ mode: 'ui', command: ['id'], asRoot: true });
    // A snapshot of a launched command is taken when it ends: no default collection time.
    expect(parseCli(['--snapshot', 'a.json', '--', 'true'], env).durationSec).toBeUndefined();
    expect(parseCli(['-f', 'sh', '--', 'true'], env)).toMatchObject({ filterGiven: true, filterText: 'sh' });
    expect(parseCli(['--json'], env).command).toBeUndefined();
    // The UI stays on the final table: exited rows of the tree are kept for the whole run unless --retention says.
    expect(parseCli(['--', 'true'], env).retentionMs).toBe(Infinity);
    expect(parseCli(['--retention', '5', '--', 'true'], env).retentionMs).toBe(5000);
  });

  it.each([
    [['--'], /-- needs a command to run/],
    [['--', ''], /-- needs a command to run/],
    [['--replay', 'r.ndjson', '--', 'true'], /--replay and -- COMMAND cannot be combined/],
    [['--pid', '1', '--', 'true'], /--pid and -- COMMAND cannot be combined/],
    [['--source', 'proc', '--', 'true'], /--source and -- COMMAND cannot be combined/],
    [['--no-children', '--', 'true'], /--no-children and -- COMMAND cannot be combined/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCli(argv as string[], env)).toThrow(UsageError);
    expect(() => parseCli(argv as string[], env)).toThrow(message);
  });
});
