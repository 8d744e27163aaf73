// The rate-history view (g) in a real terminal on the real kernel: real fork/exec/exit rates drawn by
// blessed-contrib's line chart (braille, axes, legend) at 80x24 and 160x50, intact across resizes, and
// as plain ASCII with --ascii.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bpfUnavailable, ROOT, skipReason } from '../support/lifetop';
import { Pane, tmuxAvailable, tmuxWorkspace } from './tmux';

const skip = skipReason(bpfUnavailable() ?? (tmuxAvailable() ? null : 'tmux is not installed'));

/** A steady trickle of short processes, so every rate has points. */
function trickle(): ChildProcess {
  return spawn('/bin/sh', ['-c', 'while :; do /bin/true; sleep 0.05; done'], { stdio: 'ignore', detached: true });
}

const BRAILLE = /[\u2801-\u28ff]/;

describe.skipIf(skip)('lifetop UI: rate history chart (g)', () => {
  const ws = tmuxWorkspace('lifetop-tuig-');

  let load: ChildProcess | null = null;
  beforeEach(() => {
    load = trickle();
  });
  afterEach(() => {
    if (load) process.kill(-load.pid!, 'SIGKILL');
    load = null;
  });

  /** lifetop -f '*' at 80x24 with the chart open. */
  async function chart(args: string): Promise<Pane> {
    const cmd = `cd ${ROOT} && exec env LANG=C.UTF-8 node bin/lifetop ${args} -f "*"`;
    const pane = ws.keep(Pane.start(`g-${process.pid}-${Date.now()}`, `sh -c '${cmd}'; echo "EXITED $?"; sleep 600`, 80, 24));
    await pane.waitFor(/bpf: \*/, 'the status bar');
    pane.send('g');
    return pane;
  }

  it('draws both panels with real rates at 80x24 and 160x50, and stays intact across resizes', async () => {
    const pane = await chart('');
    const small = await pane.waitFor((s) => BRAILLE.test(s) && /all processes/.test(s) && /traced/.test(s), 'both charts with data');
    const check = (screen: string, width: number) => {
      const lines = screen.split('\n');
      expect(lines[0]).toMatch(/bpf: \*/); // the status bar stays
      expect(screen).toMatch(/forks\/s[\s\S]*execs\/s[\s\S]*exits\/s/); // the legend
      expect(screen).toMatch(/now/); // the x axis ends at now
      const border = lines.find((l) => l.includes('all processes'))!;
      expect(border.trimEnd().length).toBe(width); // the panel spans the terminal
      expect(lines.filter((l) => /traced/.test(l) && l.startsWith('┌'))).toHaveLength(1);
    };
    check(small, 80);
    pane.resize(160, 50);
    const big = await pane.waitFor((s) => (s.split('\n').find((l) => l.includes('all processes')) ?? '').trimEnd().length === 160, 'the charts at 160x50');
    check(big, 160);
    pane.resize(80, 24);
    const back = await pane.waitFor((s) => (s.split('\n').find((l) => l.includes('all processes')) ?? '').trimEnd().length === 80, 'the charts back at 80x24');
    check(back, 80);
    pane.send('Escape');
    await pane.waitFor(/PID\s+PPID/, 'the table back after Esc');
    pane.send('q');
    await pane.waitFor(/EXITED 0/, 'lifetop to exit 0');
  }, 60_000);

  it('is plain ASCII with --ascii: one letter per series, y axis from 0 to the peak', async () => {
    const pane = await chart('--ascii');
    const screen = await pane.waitFor(/all processes\s+f=forks\/s e=execs\/s x=exits\/s\s+peak [1-9]/, 'the text chart with a non-zero peak');
    expect(/^[\x20-\x7e\n]*$/.test(screen)).toBe(true);
    expect(screen).toMatch(/^\s*0 \|/m);
    expect(screen).toMatch(/^\s+\+-{20,}/m);
    pane.send('g');
    await pane.waitFor(/PID\s+PPID/, 'the table back after g');
  }, 60_000);
});
