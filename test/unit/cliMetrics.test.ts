// The command line of the service side: --serve, --metrics [ADDR:]PORT and the options that shape it.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli, parseListen, UsageError } from '../../src/cliArgs';
import { expectOneLineError } from '../support/errors';
import { BIN, ROOT } from '../support/lifetop';
import { freePort, sample, scrape, until } from '../support/prometheus';

const env = {};

describe('--serve and --metrics', () => {
  it('binds loopback unless an address is given; ":PORT" is every address', () => {
    expect(parseListen('9464')).toEqual({ host: '127.0.0.1', port: 9464, text: '127.0.0.1:9464' });
    expect(parseListen('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464, text: '0.0.0.0:9464' });
    expect(parseListen('localhost:1')).toMatchObject({ host: 'localhost', port: 1 });
    expect(parseListen('[::1]:9464')).toEqual({ host: '::1', port: 9464, text: '[::1]:9464' });
    expect(parseListen(':9464')).toEqual({ host: undefined, port: 9464, text: ':9464' });
  });

  it('goes with every mode, with its defaults', () => {
    for (const argv of [[], ['--json'], ['--snapshot', 'a.json'], ['--replay', 'r.ndjson'], ['--serve']]) {
      const o = parseCli([...argv, '--metrics', '9464'], env);
      expect(o.metrics).toMatchObject({ host: '127.0.0.1', port: 9464 });
      expect(o).toMatchObject({ metricsMaxGroups: 200, metricsUnit: false });
    }
    expect(parseCli(['--serve', '--metrics', ':9464'], env).mode).toBe('serve');
    expect(parseCli(['--serve', '--record', 'r.ndjson'], env).mode).toBe('serve');
    expect(parseCli([], env).metrics).toBeUndefined();
    expect(parseCli(['--metrics', '1', '--metrics-max-groups', '5', '--metrics-unit'], env))
      .toMatchObject({ metricsMaxGroups: 5, metricsUnit: true });
    // A replay served is for dashboards: it plays in real time unless told otherwise.
    expect(parseCli(['--serve', '--metrics', '1', '--replay', 'r'], env).replaySpeed).toBe('realtime');
  });

  it.each([
    [['--serve'], /--serve needs --metrics or --record/],
    [['--serve', '--json', '--metrics', '1'], /--json and --serve cannot be combined/],
    [['--serve', '--snapshot', 'a.json', '--metrics', '1'], /--snapshot and --serve cannot be combined/],
    [['--metrics', '0'], /--metrics needs \[ADDR:\]PORT with PORT from 1 to 65535, got "0"/],
    [['--metrics', '65536'], /PORT from 1 to 65535/],
    [['--metrics', 'http://x:80'], /--metrics needs \[ADDR:\]PORT/],
    [['--metrics', 'example.com:80'], /ADDR must be an IP address \(or localhost\), got "example.com"/],
    [['--metrics', '[1.2.3.4]:80'], /not an IPv6 address/],
    [['--metrics', '300.1.1.1:80'], /ADDR must be an IP address/],
    [['--metrics', '1\n2'], /got "1\\n2"/],
    [['--metrics-max-groups', '5'], /--metrics-max-groups needs --metrics/],
    [['--metrics-unit'], /--metrics-unit needs --metrics/],
    [['--metrics', '1', '--metrics-max-groups', '0'], /--metrics-max-groups needs a positive number/],
    [['--metrics', '1', '--metrics-max-groups', '2.5'], /whole number/],
    [['--metrics', '1', '--metrics-max-groups', '1e9'], /at most 100000/],
  ])('rejects %j with one line', (argv, message) => {
    expectOneLineError(() => parseCli(argv, env), UsageError, message);
  });
});

describe('bin/lifetop --serve and --metrics as a process (replay: no root)', () => {
  const FIXTURE = path.join(ROOT, 'test/fixtures/session.ndjson');

  function runLifetop(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('a taken port: one line, exit 1, no stack', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await runLifetop(['--replay', FIXTURE, '--serve', '--metrics', String(port)]);
      expect(r).toEqual({ code: 1, stdout: '', stderr: `lifetop: cannot serve metrics on 127.0.0.1:${port}: the address is already in use\n` });
    } finally {
      taken.close();
    }
  });

  it('usage errors: one line and the hint, exit 2', async () => {
    const r = await runLifetop(['--serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("lifetop: --serve needs --metrics or --record: otherwise nothing would see what it collects\nTry 'lifetop --help'.\n");
    expect((await runLifetop(['--metrics', '99999'])).code).toBe(2);
  });

  it('serves until SIGTERM, then exits 0 having written nothing at all', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, '--replay', FIXTURE, '--replay-speed', 'max', '--serve', '--metrics', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The recording ends at once (every exec of it counted); the service stays up with its metrics.
    const execs = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.includes('"type":"exec"')).length;
    await until('the whole recording in the metrics', async () => {
      const { series } = await scrape(`127.0.0.1:${port}`);
      return sample(series, 'lifetop_traced_execs_total') === execs ? true : undefined;
    });
    const again = await scrape(`127.0.0.1:${port}`);
    expect(sample(again.series, 'lifetop_traced_execs_total')).toBe(execs);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await done).toBe(0);
    expect(out).toBe('');
  });
});
