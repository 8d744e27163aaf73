// What ships beside the program agrees with it: the man page and the bash completion with --help
// (one source), and contrib/'s Prometheus files with promtool (syntax, and the alerts' behaviour).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONS, USAGE } from '../../src/cliArgs';
import { bashCompletion, manPage, usageOptions } from '../../src/doc/manpage';
import { ROOT } from '../support/lifetop';

describe('man page and completion from the --help source', () => {
  const options = usageOptions();

  it('--help documents every option parseArgs accepts, once', () => {
    // "--" (launch mode: what follows is a command) is syntax, not an option.
    const documented = options.flatMap((o) => o.spec.split(/[ ,]+/).filter((w) => w.startsWith('-') && w !== '--'));
    const accepted = Object.entries(OPTIONS).flatMap(([name, o]) => ['--' + name, ...('short' in o ? ['-' + o.short] : [])]);
    expect([...documented].sort()).toEqual([...accepted].sort());
  });

  it('the man page holds every option entry of --help, word for word', () => {
    const page = manPage('1.2.3');
    const unroff = (s: string) => s.replace(/\\f[BIR]/g, '').replace(/\\-/g, '-').replace(/\\e/g, '\\').replace(/\\&/g, '');
    const entries = page.split('\n.TP\n').slice(1).map((e) => e.split('\n').slice(0, 2).map(unroff));
    expect(entries.map(([spec]) => spec)).toEqual(options.map((o) => o.spec));
    expect(entries.map(([, text]) => text)).toEqual(options.map((o) => o.text));
    expect(page).toContain('.TH LIFETOP 1 "" "lifetop 1.2.3"');
    // Every description word of USAGE is in the page: nothing of the help is lost on the way.
    const words = (s: string) => new Set(s.split(/\s+/).filter(Boolean));
    const pageWords = words(unroff(page).replace(/\n\.\w+.*$/gm, ' '));
    for (const w of words(USAGE.split('\n').slice(2).join(' '))) expect(pageWords.has(w), w).toBe(true);
  });

  it('the README\'s Command line section is --help as it is now', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /```\n(Usage: lifetop[\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block).toBe(USAGE.replace(/\n+$/, ''));
  });

  it('no line of the page starts with a roff control character it did not mean', () => {
    const page = manPage('1');
    for (const line of page.split('\n')) {
      if (/^[.']/.test(line)) expect(line, line).toMatch(/^\.(\\"|TH|SH|PP|TP|nf|fi)( |$)/);
    }
  });

  it('the completion offers every option', () => {
    const text = bashCompletion();
    for (const name of Object.keys(OPTIONS)) expect(text).toContain(`--${name}`);
    const r = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('contrib/ Prometheus files', () => {
  const contrib = path.join(ROOT, 'contrib');
  const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: contrib, encoding: 'utf8' });

  it('promtool accepts the scrape config (with its rule file) and the rules', () => {
    const config = promtool('check', 'config', 'prometheus.yml');
    expect(config.error).toBeUndefined(); // promtool is installed by make (Debian's prometheus)
    expect(config.status, config.stdout + config.stderr).toBe(0);
    expect(config.stdout).toContain('1 rule files found');
    const rules = promtool('check', 'rules', 'alerts.yml');
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toContain('SUCCESS: 4 rules found');
  });

  it('the alerts fire on a crash loop, an OOM kill, a loss and a silent lifetop, and not on clean exits', () => {
    const r = spawnSync('promtool', ['test', 'rules', path.join(ROOT, 'test/fixtures/alerts.test.yml')], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('the unit runs the service mode with metrics, not as root, with only the capabilities it documents', () => {
    const unit = fs.readFileSync(path.join(contrib, 'lifetop.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/lifetop --serve --metrics :9464$/m);
    expect(unit).toMatch(/^DynamicUser=yes$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^ProtectHome=yes$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_PTRACE$/m);
    for (const cap of ['CAP_BPF', 'CAP_PERFMON', 'CAP_SYS_PTRACE']) expect(unit).toMatch(new RegExp(`^#\\s+${cap}\\s+\\S`, 'm'));
  });
});
