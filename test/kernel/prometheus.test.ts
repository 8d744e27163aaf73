// The service end to end: lifetop --serve --metrics traced by the real kernel, scraped by a real
// Prometheus server (Debian's binary, on loopback, its own storage) configured from contrib/, and
// read back through Prometheus's own HTTP query API.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpfObjectsOf, bpfUnavailable, expectDetached, ROOT, skipReason, startLifetop, stopLifetop, type Running } from '../support/lifetop';
import { freePort, startPrometheus, until, type PromServer } from '../support/prometheus';
import { exited, PYTHON } from '../support/workload';

function unavailable(): string | null {
  const bpf = bpfUnavailable();
  if (bpf) return bpf;
  for (const tool of ['prometheus', 'promtool']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (make installs Debian's prometheus)`;
  }
  return null;
}

const skip = skipReason(unavailable());

describe.skipIf(skip)('a real Prometheus server scraping lifetop --serve', () => {
  let dir: string;
  let lifetop: Running | undefined;
  let prom: PromServer | undefined;
  let metricsPort: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifetop-prom-'));
    metricsPort = await freePort();
    lifetop = await startLifetop(['--serve', '--metrics', String(metricsPort), '-f', 'python*']);
    // contrib/prometheus.yml as shipped, pointed at this lifetop and scraping every second.
    const shipped = fs.readFileSync(path.join(ROOT, 'contrib/prometheus.yml'), 'utf8');
    const config = shipped.replace(/scrape_interval: \S+/, 'scrape_interval: 1s').replace(/evaluation_interval: \S+/, 'evaluation_interval: 1s')
      .replace("targets: ['localhost:9464']", `targets: ['127.0.0.1:${metricsPort}']`);
    expect(config).toContain(`127.0.0.1:${metricsPort}`);
    expect(config).toContain('scrape_interval: 1s');
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
    fs.copyFileSync(path.join(ROOT, 'contrib/alerts.yml'), path.join(dir, 'alerts.yml'));
    const check = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    prom = await startPrometheus(path.join(dir, 'prometheus.yml'), dir);
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
    if (lifetop && lifetop.child.exitCode === null) await stopLifetop(lifetop, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The value of the one series expr selects, once Prometheus has it (undefined until then). */
  async function value(expr: string): Promise<number | undefined> {
    const r = await prom!.query(expr);
    if (r.length > 1) throw new Error(`${expr}: ${r.length} series`);
    return r[0]?.value;
  }

  /** One round of the workload: a script that exits 3, and one killed with SIGKILL. */
  async function round(): Promise<void> {
    fs.writeFileSync(path.join(dir, 'ltprom_exit3.py'), 'import sys\nsys.exit(3)\n');
    fs.writeFileSync(path.join(dir, 'ltprom_victim.py'), 'import sys, time\nprint("ready", flush=True)\ntime.sleep(60)\n');
    const a = spawn(PYTHON, [path.join(dir, 'ltprom_exit3.py')], { stdio: 'ignore' });
    expect(await exited(a)).toEqual({ code: 3, signal: null });
    const b = spawn(PYTHON, [path.join(dir, 'ltprom_victim.py')], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => b.stdout!.once('data', () => resolve()));
    b.kill('SIGKILL');
    expect(await exited(b)).toEqual({ code: null, signal: 'SIGKILL' });
  }

  const exit3 = 'lifetop_exits_total{job="lifetop",group="ltprom_exit3.py",reason="code",signal=""}';
  const killed = 'lifetop_exits_total{job="lifetop",group="ltprom_victim.py",reason="signal",signal="SIGKILL"}';

  it('shows up, the exits of each group and reason, and their increments', async () => {
    expect(await until('up == 1', () => value('up{job="lifetop"}').then((v) => (v === 1 ? v : undefined)))).toBe(1);

    await round();
    expect(await until('the first exits in Prometheus', async () => {
      const [x, k] = [await value(exit3), await value(killed)];
      return x === 1 && k === 1 ? [x, k] : undefined;
    })).toEqual([1, 1]);

    await round();
    expect(await until('the second exits in Prometheus', async () => {
      const [x, k] = [await value(exit3), await value(killed)];
      return x === 2 && k === 2 ? [x, k] : undefined;
    })).toEqual([2, 2]);
    // What a dashboard asks: the increase over the last minute, per group and reason.
    const inc = await prom!.query('sum by (group, reason, signal) (increase(lifetop_exits_total{group=~"ltprom_.*"}[1m]))');
    const byGroup = Object.fromEntries(inc.map((r) => [`${r.metric.group}/${r.metric.reason}/${r.metric.signal ?? ''}`, r.value]));
    expect(Object.keys(byGroup).sort()).toEqual(['ltprom_exit3.py/code/', 'ltprom_victim.py/signal/SIGKILL']);
    expect(byGroup['ltprom_exit3.py/code/']).toBeGreaterThan(0);
    expect(byGroup['ltprom_victim.py/signal/SIGKILL']).toBeGreaterThan(0);

    // The lifetimes of the same processes, and the kernel's own counters, through the same server.
    expect(await value('lifetop_process_lifetime_seconds_count{group="ltprom_exit3.py"}')).toBe(2);
    expect(await value('lifetop_traced_exits_total')).toBeGreaterThanOrEqual(4);
    expect(await value('lifetop_host_forks_total')).toBeGreaterThan(0);
    expect(await value('sum(lifetop_lost_events_total)')).toBeDefined();
    expect(await value('lifetop_build_info{source="bpf"}')).toBe(1);

    // contrib/alerts.yml was loaded and its rules evaluate without error.
    const rules = await until('the rules evaluated', async () => {
      const data = await prom!.api('/api/v1/rules') as { groups: { rules: { name: string; health: string }[] }[] };
      const all = data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health === 'ok') ? all.map((r) => r.name).sort() : undefined;
    });
    expect(rules).toEqual(['LifetopCrashLoop', 'LifetopDown', 'LifetopLostEvents', 'LifetopOOMKill']);
  }, 120_000);

  it('ends on SIGTERM with exit 0, nothing on stdout, nothing left loaded; Prometheus then sees it down', async () => {
    const held = bpfObjectsOf(lifetop!.child.pid!);
    expect(await stopLifetop(lifetop!, 'SIGTERM')).toBe(0);
    expect(lifetop!.lines.filter((l) => l !== '')).toEqual([]);
    // --verbose's start lines only: no problem was reported.
    expect(lifetop!.stderr.join('').trim().split('\n').filter((l) => !/^lifetop: (metrics on|tracing) /.test(l))).toEqual([]);
    await expectDetached(held);
    expect(await until('up == 0', () => value('up{job="lifetop"}').then((v) => (v === 0 ? v : undefined)))).toBe(0);
    await prom!.stop();
    expect(spawnSync('sh', ['-c', `ss -ltn | grep -c ':${metricsPort} '`], { encoding: 'utf8' }).stdout.trim()).toBe('0');
  }, 60_000);
});
