// The command line of the service side: --serve, --metrics [ADDR:]PORT and the options that shape it.
import { describe, expect, it } from 'vitest';
import { parseCli, parseListen, UsageError } from '../../src/cliArgs';
import { expectOneLineError } from '../support/errors';

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
