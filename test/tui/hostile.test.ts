// Hostile conditions for the full-screen UI on a real terminal (tmux, no root): the terminal hanging up
// under it, Ctrl-Z and fg, no terminal at all, a recording that cannot be read or breaks mid-run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pane, tableRows, tmuxWorkspace } from './tmux';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'lifetop');
const FIXTURE = path.join('test', 'fixtures', 'session.ndjson');
const WATCH = path.join(ROOT, 'test', 'support', 'hangupWatch.cjs');
const fixtureLines = fs.readFileSync(path.join(ROOT, FIXTURE), 'utf8').split('\n').filter((l) => l.trim() !== '');

let seq = 0;
const ws = tmuxWorkspace('lifetop-hostile-');

function start(command: string, width = 100, height = 30): Pane {
  return ws.keep(Pane.start(`hostile-${process.pid}-${++seq}`, command, width, height));
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Ended { code: number | null; signal: string | null; probe: string }

/** How lifetop ended, as hangupWatch.cjs wrote it once lifetop had exited. */
function ended(result: string): Promise<Ended> {
  return until(() => (fs.existsSync(result) ? JSON.parse(fs.readFileSync(result, 'utf8')) as Ended : undefined),
    'lifetop to exit after the hang-up');
}

/**
 * lifetop under hangupWatch on the pane's terminal. `leaderSurvives`: the watcher is the session leader
 * and ignores SIGHUP, so the kernel signals nobody else and lifetop learns of the hang-up only from its
 * terminal (EIO, end of input). Otherwise sh leads the session, dies of the SIGHUP, and its foreground
 * group, lifetop with it, gets SIGHUP too.
 */
function underWatch(result: string, args: string, leaderSurvives: boolean): Pane {
  const run = `node ${WATCH} ${result} node bin/lifetop ${args}`;
  return start(leaderSurvives ? `cd ${ROOT} && exec ${run}` : `cd ${ROOT} && ${run}; true`);
}

/** A recording closed properly: newline-terminated, every line JSON, a header then events. */
function expectCompleteRecording(file: string): void {
  const text = fs.readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const records = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string });
  expect(records[0].type).toBe('header');
  expect(records.length).toBeGreaterThan(1);
}

/** What a headless run prints for the same failure: the UI must say the same, in one line. */
function headlessError(args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, '--json', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe('the terminal hangs up under lifetop (its pty closes)', () => {
  for (const leaderSurvives of [true, false]) {
    const how = leaderSurvives ? 'with no SIGHUP: only the terminal says so' : 'with SIGHUP from the dying shell';
    it(`UI ${how}: exit 0, no abort, the recording complete`, async () => {
      const result = path.join(ws.dir, `ui-${seq}.json`);
      const rec = path.join(ws.dir, `ui-${seq}.ndjson`);
      const p = underWatch(result, `--replay ${FIXTURE} --replay-speed 0.01 --record ${rec}`, leaderSurvives);
      await p.waitFor(/replay: .* 1 running/, 'the UI with the first event');
      p.kill(); // tmux closes the pty master: a genuine hang-up (the probe below gets EIO)
      ws.forget();
      const end = await ended(result);
      expect(end.probe).toBe('EIO');
      expect(end).toEqual({ code: 0, signal: null, probe: 'EIO' }); // 134 / SIGABRT before the fix
      expectCompleteRecording(rec);
    });
  }

  it('--json: a write to the closed pty ends the stream quietly, exit 0', async () => {
    const result = path.join(ws.dir, `json-${seq}.json`);
    const rec = path.join(ws.dir, `json-${seq}.ndjson`);
    // A steady stream: a new process every 100 ms for a minute, so lifetop writes soon after the hang-up.
    const steady = path.join(ws.dir, `steady-${seq}.ndjson`);
    const first = JSON.parse(fixtureLines[0]) as { time: string; start: number };
    const t0 = Date.parse(first.time);
    const lines = Array.from({ length: 600 }, (_, i) => JSON.stringify({
      ...first, pid: 100_000 + i, tid: 100_000 + i, start: first.start + i, time: new Date(t0 + i * 100).toISOString(),
    }));
    fs.writeFileSync(steady, lines.join('\n') + '\n');
    const p = underWatch(result, `--json --replay ${steady} --replay-speed realtime --record ${rec}`, true);
    await p.waitFor(/"pid":100005/, 'events on the terminal');
    p.kill();
    ws.forget();
    const end = await ended(result);
    expect(end).toEqual({ code: 0, signal: null, probe: 'EIO' }); // exit 1 or SIGABRT before the fix
    expectCompleteRecording(rec);
  });
});

describe('Ctrl-Z and fg', () => {
  it('gives the shell a normal terminal, and fg brings back a fully drawn UI that takes keys', async () => {
    const p = start(`cd ${ROOT} && exec env PS1='shell$ ' LANG=C.UTF-8 bash --norc --noprofile -i`);
    await p.waitFor(/shell\$\s*$/m, 'the shell prompt');
    p.type(`node bin/lifetop --replay ${FIXTURE} --replay-speed max`);
    p.send('Enter');
    const drawn = await p.waitFor((s) => tableRows(s).length > 0 && / q quit /.test(s), 'the UI');
    const pids = tableRows(drawn).map((r) => r.trim().split(/\s+/)[0]);
    const lifetop = spawnSync('pgrep', ['-P', p.format('#{pane_pid}')], { encoding: 'utf8' }).stdout.trim();
    expect(lifetop).toMatch(/^\d+$/);

    // The key in raw mode (Ctrl-Z arrives as \x1a), then the signal from outside (kill -TSTP).
    const suspenders: [string, () => void][] = [
      ['Ctrl-Z', () => p.send('C-z')],
      ['SIGTSTP', () => process.kill(Number(lifetop), 'SIGTSTP')],
    ];
    for (const [what, suspend] of suspenders) {
      suspend();
      const shell = await p.waitFor(/Stopped[^\n]*\n(.*\n)*shell\$\s*$/m, `the shell after ${what}`);
      expect(shell).not.toMatch(/^\s*PID\s/m);
      expect(p.format('#{alternate_on} #{cursor_flag}')).toBe('0 1'); // normal screen, cursor shown
      p.type('fg');
      p.send('Enter');
      const back = await p.waitFor((s) => / q quit /.test(s) && tableRows(s).length === pids.length, `the UI after fg (${what})`);
      expect(p.format('#{alternate_on}')).toBe('1');
      expect(back).toMatch(/^ replay: /m);
      expect(back).not.toMatch(/shell\$|Stopped/);
      expect(tableRows(back).map((r) => r.trim().split(/\s+/)[0]).sort()).toEqual(pids.slice().sort());
      // One key, no Enter: the terminal is in raw mode again.
      p.send('r');
      await p.waitFor(/sort \w+▲/, `the reversed sort after fg (${what})`);
      p.send('r');
      await p.waitFor(/sort \w+▼/, 'the sort back');
    }
    p.send('q');
    await p.waitFor(/shell\$\s*$/m, 'the prompt after q');
    p.type('echo "EXITED $?"');
    p.send('Enter');
    await p.waitFor(/^EXITED 0$/m, 'exit code 0');
  });
});

describe('no terminal', () => {
  it('refuses with stdout not a terminal before loading anything: one line, exit 2', () => {
    const rec = path.join(ws.dir, 'never-created.ndjson');
    // Before the check this ran the UI invisibly until killed: the timeout keeps a regression from hanging the suite.
    const r = spawnSync(process.execPath, [BIN, '--replay', FIXTURE, '--record', rec], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe(''); // no escape codes in the file
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lifetop: .*terminal \(stdout is not one\).*--json.*--snapshot/);
    expect(fs.existsSync(rec)).toBe(false);
  });

  it('refuses with stdin not a terminal (stdout one): exit 2', async () => {
    const p = start(`cd ${ROOT} && node bin/lifetop --replay ${FIXTURE} < /dev/null; echo "EXITED $?"; sleep 600`, 200);
    const screen = await p.waitFor(/EXITED \d+/, 'lifetop to exit');
    expect(screen).toMatch(/EXITED 2/);
    expect(screen).toMatch(/lifetop: .*terminal \(stdin is not one\).*--json.*--snapshot/);
  });
});

describe('a recording that fails: the same line and exit as headless', () => {
  for (const [what, target] of [['a missing file', '/nonexistent/recording.ndjson'], ['a directory', '<tmp>']] as const) {
    it(`--replay of ${what} fails before the screen opens: one line, exit 1`, async () => {
      const file = target === '<tmp>' ? ws.dir : target;
      const line = headlessError(['--replay', file]);
      expect(line).toMatch(/^lifetop: cannot read /);
      const go = path.join(ws.dir, `go-${seq}`);
      const raw = path.join(ws.dir, `raw-${seq}`);
      const p = start(`cd ${ROOT}; while [ ! -e ${go} ]; do sleep 0.05; done; node bin/lifetop --replay ${file}; echo "EXITED $?"; sleep 600`);
      p.pipeTo(raw);
      fs.writeFileSync(go, '');
      const screen = await p.waitFor(/EXITED \d+/, 'lifetop to exit');
      expect(screen).toMatch(/EXITED 1/);
      expect(screen).toContain(line);
      const bytes = await until(() => {
        const b = fs.existsSync(raw) ? fs.readFileSync(raw, 'latin1') : '';
        return b.includes('EXITED') ? b : undefined;
      }, 'the pane output');
      expect(bytes).not.toMatch(/\x1b\[\?(1049|1047|47)h/); // the alternate screen never opened
    });
  }

  it('a bad line under --on-bad-line abort closes the running UI: the line, exit 1', async () => {
    const file = path.join(ws.dir, 'bad-late.ndjson');
    const first = JSON.parse(fixtureLines[0]) as Record<string, unknown>;
    const lastTime = Date.parse((JSON.parse(fixtureLines[fixtureLines.length - 1]) as { time: string }).time);
    // Two seconds after the fixture ends a new process, then a broken line: the UI is up by then.
    const late = { ...first, pid: 424242, time: new Date(lastTime + 2000).toISOString() };
    fs.writeFileSync(file, [...fixtureLines, JSON.stringify(late), '{"type":"exec", this is not json'].join('\n') + '\n');
    const line = headlessError(['--replay', file, '--on-bad-line', 'abort']);
    expect(line).toContain(`${file}:${fixtureLines.length + 2}:`);
    const p = start(`cd ${ROOT} && node bin/lifetop --replay ${file} --replay-speed realtime --on-bad-line abort; echo "EXITED $?"; sleep 600`);
    await p.waitFor((s) => tableRows(s).length > 0 && / q quit /.test(s), 'the UI');
    const screen = await p.waitFor(/EXITED \d+/, 'the UI to close on the bad line');
    expect(screen).toMatch(/EXITED 1/);
    expect(screen).toContain(line);
    expect(p.format('#{alternate_on}')).toBe('0');
  });
});
