// --metrics beside the full-screen UI: the endpoint serves what the UI shows (the replay fixture),
// writes nothing onto the terminal, and closes with the UI.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/lifetop';
import { freePort, sample, scrape, until } from '../support/prometheus';
import { Pane, replayCommand, tableRows, tmuxWorkspace } from './tmux';

const FIXTURE = path.join('test', 'fixtures', 'session.ndjson');
const ws = tmuxWorkspace('lifetop-tui-metrics-');

interface Rec { type: string; seeded?: boolean }
const exits = fs.readFileSync(path.join(ROOT, FIXTURE), 'utf8').split('\n').filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Rec).filter((r) => r.type === 'exit' && !r.seeded).length;

describe('the UI with --metrics', () => {
  it('serves the metrics of what it shows, quietly, until q', async () => {
    expect(exits).toBeGreaterThan(0);
    const port = await freePort();
    const p = ws.keep(Pane.start(`metrics-${process.pid}`, replayCommand(FIXTURE, `--metrics ${port}`), 100, 30));
    await p.waitFor((s) => tableRows(s).length > 0, 'the UI');
    const { series } = await until('the replay in the metrics', async () => {
      const got = await scrape(`127.0.0.1:${port}`);
      const n = got.series.filter((s) => s.name === 'lifetop_exits_total').reduce((sum, s) => sum + s.value, 0);
      return n === exits ? got : undefined;
    });
    expect(sample(series, 'lifetop_build_info', { source: 'replay' })).toBe(1);
    const screen = p.screen();
    expect(screen).not.toMatch(/lifetop_|metrics on|# HELP/);
    p.send('q');
    expect(await p.waitFor(/EXITED \d+/, 'lifetop to exit')).toMatch(/EXITED 0/);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
