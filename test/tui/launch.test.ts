// Launch mode and the signal action in the real UI on the real kernel, in tmux: a uvicorn with two
// workers launched by lifetop shows master and workers from their first exec; k sends a signal to
// exactly the chosen process (its exit names lifetop as the sender), and refuses a pid reused since.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bpfObjectsOf, bpfUnavailable, expectDetached, ROOT, skipReason } from '../support/lifetop';
import { exited, LAST_PID, pythonAs, spawnAtPid } from '../support/workload';
import { Pane, rowPid, tableRows, tmuxAvailable, tmuxWorkspace } from './tmux';

const uvicornMissing = spawnSync('/usr/bin/python3', ['-c', 'import uvicorn'], { stdio: 'ignore' }).status === 0
  ? null : "Debian's python3-uvicorn is not installed";
const skip = skipReason(bpfUnavailable() ?? (tmuxAvailable() ? null : 'tmux is not installed'));

const APP = `async def app(scope, receive, send):
    if scope['type'] == 'http':
        await send({'type': 'http.response.start', 'status': 200, 'headers': []})
        await send({'type': 'http.response.body', 'body': b'ok'})
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(skip)('lifetop UI: launch mode and signals', () => {
  const ws = tmuxWorkspace('lifetop-tuil-');

  /** lifetop in a pane, its pid written down (exec keeps it) so the test can check what it holds. */
  function start(args: string, cwd = ROOT): { pane: Pane; pid: () => number } {
    const pidFile = path.join(ws.dir, `lifetop-${Date.now()}.pid`);
    const cmd = `cd ${cwd} && echo $$ > ${pidFile} && exec env LANG=C.UTF-8 node ${ROOT}/bin/lifetop ${args}`;
    const pane = ws.keep(Pane.start(`l-${process.pid}-${Date.now()}`, `sh -c '${cmd}'; echo "EXITED $?"; sleep 600`, 120, 30));
    return { pane, pid: () => Number(fs.readFileSync(pidFile, 'utf8')) };
  }

  it.skipIf(skipReason(uvicornMissing))('launches uvicorn with 2 workers: master and workers from their first exec; Ctrl-C stops it, q leaves nothing loaded', async () => {
    fs.writeFileSync(path.join(ws.dir, 'app.py'), APP);
    const port = 20000 + (process.pid % 20000);
    const ui = start(`-- /usr/bin/python3 -m uvicorn app:app --host 127.0.0.1 --port ${port} --workers 2`, ws.dir);
    const screen = await ui.pane.waitFor((s) => (s.match(/uvicorn app:app worker/g) ?? []).length === 2 && /uvicorn app:app master/.test(s),
      'the master and both workers', 30_000);
    expect(screen).toMatch(/command \d+ running/);
    expect(screen).toContain('complete tree');
    const master = tableRows(screen).find((r) => r.includes('uvicorn app:app master'))!;
    const masterPid = rowPid(master);
    // Observed, not seeded: the master's own exec is in the event log.
    expect(screen).toMatch(new RegExp(`EXEC ${masterPid}<-\\d+ python3 /usr/bin/python3 -m uvicorn app:app`));
    const workers = tableRows(screen).filter((r) => r.includes('uvicorn app:app worker')).map(rowPid);
    const held = bpfObjectsOf(ui.pid());
    // Ctrl-C goes to the command's process group first, as a shell would: uvicorn shuts down, the UI stays.
    ui.pane.send('C-c');
    const ended = await ui.pane.waitFor(/command (exited with code \d+|killed by SIG\w+)/, 'the command ended by Ctrl-C', 30_000);
    expect(ended).toMatch(/Ctrl-C sent SIGINT to the command/);
    expect(tableRows(ended).filter((r) => /uvicorn app:app/.test(r) && /\brun\s*$/.test(r))).toEqual([]);
    ui.pane.send('q');
    await ui.pane.waitFor(/EXITED 0/, 'lifetop to exit 0');
    expect(ui.pane.screen()).toMatch(/lifetop: command (exited with code|killed by)/);
    await expectDetached(held);
    expect([masterPid, ...workers].filter(alive)).toEqual([]); // the command is stopped with lifetop, as documented
  }, 60_000);

  it('k on a chosen row, confirmed, sends SIGTERM to exactly that process; its exit names lifetop', async () => {
    const py = pythonAs(ws.dir, 'ltk-py');
    const victim = spawn(py, ['-c', 'import time; time.sleep(60)', 'victim'], { stdio: 'ignore' });
    const bystander = spawn(py, ['-c', 'import time; time.sleep(60)', 'bystander'], { stdio: 'ignore' });
    try {
      const ui = start("-f 'ltk-py'");
      await ui.pane.waitFor((s) => tableRows(s).length === 2, 'both processes in the table');
      ui.pane.send('\\');
      ui.pane.type('victim');
      ui.pane.send('Enter');
      await ui.pane.waitFor((s) => tableRows(s).length === 1 && rowPid(tableRows(s)[0]) === victim.pid, 'only the victim shown');
      ui.pane.send('k');
      await ui.pane.waitFor(new RegExp(`Send signal[\\s\\S]*to ${victim.pid} ltk-py[\\s\\S]*> SIGTERM`), 'the signal menu, TERM chosen');
      ui.pane.send('Enter');
      await ui.pane.waitFor(new RegExp(`Send SIGTERM to[\\s\\S]*pid\\s+${victim.pid}[\\s\\S]*args [\\s\\S]*victim`), 'the confirmation naming it');
      ui.pane.send('y');
      const screen = await ui.pane.waitFor(new RegExp(`EXIT ${victim.pid}<-\\d+ ltk-py SIGTERM by lifetop\\[${ui.pid()}\\]`), 'its exit, sent by lifetop');
      expect(screen).toContain(`SIGTERM sent to ${victim.pid} (ltk-py)`);
      expect(await exited(victim)).toEqual({ code: null, signal: 'SIGTERM' });
      expect(alive(bystander.pid!)).toBe(true);
    } finally {
      victim.kill('SIGKILL');
      bystander.kill('SIGKILL');
    }
  }, 60_000);

  it.skipIf(skipReason(fs.existsSync(LAST_PID) ? null : 'no ns_last_pid (CONFIG_CHECKPOINT_RESTORE)'))('refuses a row whose pid was reused between the menu and the confirmation', async () => {
    const py = pythonAs(ws.dir, 'ltr-py');
    const first = spawn(py, ['-c', 'import time; time.sleep(60)'], { stdio: 'ignore' });
    let reuser: ChildProcess | undefined;
    try {
      const ui = start("-f 'ltr-py'");
      await ui.pane.waitFor((s) => tableRows(s).some((r) => rowPid(r) === first.pid), 'the process in the table');
      ui.pane.send('k');
      await ui.pane.waitFor(new RegExp(`to ${first.pid} ltr-py`), 'the signal menu on it');
      ui.pane.send('Enter');
      await ui.pane.waitFor(/Send SIGTERM to/, 'the confirmation');
      // Meanwhile the process ends and an unrelated one takes its pid.
      first.kill('SIGKILL');
      await exited(first);
      reuser = await spawnAtPid(first.pid!, 'sleep', ['60']);
      ui.pane.send('y');
      await ui.pane.waitFor(new RegExp(`SIGTERM not sent: pid ${first.pid} is another process now`), 'the refusal');
      expect(alive(reuser.pid!)).toBe(true);
      expect(reuser.signalCode).toBeNull();
    } finally {
      first.kill('SIGKILL');
      reuser?.kill('SIGKILL');
    }
  }, 60_000);

  it('folds a shim\'s helpers and the sh -c wrapper (z shows them); the log shows repeats once with xN', async () => {
    // A shim as pyenv's: a bash script that runs helpers (readlink, a subshell) and then execs python in place.
    const shim = path.join(ws.dir, 'ltf-shim');
    fs.writeFileSync(shim, [
      '#!/bin/bash',
      'for i in 1 2 3; do readlink -f /proc/self/exe > /dev/null; done',
      '( : subshell )',
      `exec /usr/bin/python3 "$@"`,
    ].join('\n') + '\n', { mode: 0o755 });
    const prog = path.join(ws.dir, 'ltf-prog.py');
    fs.writeFileSync(prog, 'import subprocess, time\nfor i in range(4): subprocess.run(["/bin/true"])\ntime.sleep(60)\n');
    const ui = start(`--retention 300 -- sh -c "${shim} ${prog}"`);
    // Folded: the program and what it ran (4 trues); the shim's helpers and the sh -c wrapper are not rows.
    const folded = await ui.pane.waitFor((s) => /5 folded \(z\)/.test(s) && tableRows(s).length === 5 && /x4/.test(s),
      'the program and its children, helpers folded, the 4 trues as one log line');
    const rows = tableRows(folded);
    expect(rows.filter((r) => /python3.*\brun\s*$/.test(r))).toHaveLength(1);
    expect(rows.filter((r) => /\btrue\b.*exit 0\s*$/.test(r))).toHaveLength(4);
    expect(folded).toMatch(/EXEC \d+<-\d+ true \/bin\/true -> exit 0 after \S+ x4/);
    expect(folded).toMatch(/EXEC \d+<-\d+ readlink readlink -f \/proc\/self\/exe -> exit 0 after \S+ x3/);
    ui.pane.send('z');
    const all = await ui.pane.waitFor((s) => tableRows(s).some((r) => /readlink/.test(r)), 'every process shown');
    expect(tableRows(all).filter((r) => /readlink/.test(r))).toHaveLength(3);
    expect(tableRows(all).some((r) => /\bsh\b/.test(r))).toBe(true);
    expect(tableRows(all).filter((r) => /\btrue\b/.test(r))).toHaveLength(4);
    expect(all).not.toMatch(/ x4/);
  }, 60_000);
});
