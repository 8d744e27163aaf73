import { describe, expect, it } from 'vitest';
import { labelFor, LabelInput, LabelParent } from '../../src/model/label';

const PY = '/usr/bin/python3.11';
const py = (...args: string[]): LabelInput => ({ comm: 'python3', filename: PY, args: ['/usr/bin/python3', ...args] });
const SPAWN = 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)';

function parentOf(input: LabelInput, parent?: LabelParent): LabelParent {
  return { ...input, label: labelFor(input, parent) };
}

describe('python scripts', () => {
  it('shows the script path, skipping interpreter options', () => {
    expect(labelFor(py('app.py'))).toBe('app.py');
    expect(labelFor(py('-u', '/srv/app/main.py', '--port', '80'))).toBe('/srv/app/main.py');
    expect(labelFor(py('-O', '-X', 'dev', '-W', 'ignore', 'job.py'))).toBe('job.py');
    expect(labelFor(py('-Xfrozen_modules=off', '-Werror', '-uB', 'job.py'))).toBe('job.py');
    expect(labelFor(py('--check-hash-based-pycs', 'never', 'job.py'))).toBe('job.py');
  });

  it('recognises the interpreter by comm, filename or argv[0]', () => {
    expect(labelFor({ comm: 'python3.12', filename: '/opt/py/bin/python3.12', args: ['python3.12', 'a.py'] })).toBe('a.py');
    expect(labelFor({ comm: 'x', filename: '/usr/bin/python', args: ['python', 'b.py'] })).toBe('b.py');
    expect(labelFor({ comm: 'x', filename: '', args: ['/usr/local/bin/python3.11', 'c.py'] })).toBe('c.py');
    expect(labelFor({ comm: 'python3-dbg', filename: '/usr/bin/python3-dbg', args: ['python3-dbg', 'd.py'] })).toBe('python3-dbg d.py');
  });

  it('shows what a program that rewrote its argv wants shown', () => {
    expect(labelFor({ comm: 'python3', filename: PY, args: ['celery worker: idle'] })).toBe('celery worker: idle');
  });

  it('shows -m module and the interpreter alone for a REPL or stdin', () => {
    expect(labelFor(py('-m', 'http.server', '8080'))).toBe('-m http.server');
    expect(labelFor(py('-mpip', 'install', 'x'))).toBe('-m pip');
    expect(labelFor(py('-u', '-m', 'celery', 'worker'))).toBe('-m celery');
    expect(labelFor(py())).toBe('python3');
    expect(labelFor(py('-i'))).toBe('python3');
    expect(labelFor(py('-', 'arg'))).toBe('python3 -');
  });

  it("shows -c code on one line, truncated to about 40 characters", () => {
    expect(labelFor(py('-c', "print('hi')"))).toBe("-c 'print('hi')'");
    expect(labelFor(py('-c', 'import sys\n\tsys.exit(3)'))).toBe("-c 'import sys sys.exit(3)'");
    const long = labelFor(py('-c', 'import os, sys; ' + 'x = 1; '.repeat(20)));
    expect(long.startsWith("-c 'import os, sys; x = 1;")).toBe(true);
    expect(long.endsWith("…'")).toBe(true);
    expect(long.length).toBeLessThanOrEqual(46);
    expect(labelFor(py('-uc', 'pass'))).toBe("-c 'pass'");
    expect(labelFor(py('-cpass'))).toBe("-c 'pass'");
  });
});

describe('uvicorn', () => {
  const master = { comm: 'uvicorn', filename: '/usr/local/bin/uvicorn', args: ['/usr/bin/python3', '/usr/local/bin/uvicorn', 'app.main:app', '--host', '0.0.0.0', '--workers', '2'] };

  it('labels the master however it was started', () => {
    expect(labelFor(master)).toBe('uvicorn app.main:app master');
    expect(labelFor({ comm: 'uvicorn', filename: '/usr/local/bin/uvicorn', args: ['uvicorn', '--port', '80', 'shop:api'] })).toBe('uvicorn shop:api master');
    expect(labelFor(py('-m', 'uvicorn', 'svc.web:create_app', '--factory'))).toBe('uvicorn svc.web:create_app master');
    expect(labelFor({ comm: 'uvicorn', filename: '', args: [] })).toBe('uvicorn master');
  });

  it('labels spawned workers (multiprocessing spawn) as workers of that app', () => {
    const m = parentOf(master);
    expect(labelFor({ comm: 'python3.11', filename: PY, args: ['/usr/bin/python3', '-c', SPAWN, '--multiprocessing-fork'] }, m)).toBe('uvicorn app.main:app worker');
    expect(labelFor({ comm: 'python3', filename: PY, args: ['python3', '--multiprocessing-fork', 'tracker_fd=5'] }, m)).toBe('uvicorn app.main:app worker');
  });

  it('labels forked workers (same image, no exec) as workers, and their own forks too', () => {
    const m = parentOf(master);
    const worker = parentOf({ ...master }, m);
    expect(worker.label).toBe('uvicorn app.main:app worker');
    expect(labelFor({ ...master }, worker)).toBe('uvicorn app.main:app worker');
  });

  it('does not call an unrelated child of the master a worker', () => {
    const m = parentOf(master);
    expect(labelFor({ comm: 'sh', filename: '/bin/sh', args: ['sh', '-c', 'true'] }, m)).toBe('sh -c true');
    expect(labelFor(py('-c', 'from multiprocessing.resource_tracker import main;main(4)'), m))
      .toBe("-c 'from multiprocessing.resource_tracker i…'");
  });
});

describe('multiprocessing children of other programs', () => {
  it('labels spawn children after their parent', () => {
    const jobs = parentOf(py('jobs.py'));
    expect(labelFor(py('-c', SPAWN, '--multiprocessing-fork'), jobs)).toBe('mp worker of jobs.py');
    expect(labelFor(py('-c', SPAWN, '--multiprocessing-fork'))).toBe('mp worker');
  });

  it('gives a forked child its parent label', () => {
    const jobs = parentOf(py('jobs.py'));
    expect(labelFor(py('jobs.py'), jobs)).toBe('jobs.py');
  });
});

describe('everything else', () => {
  it('joins the args, or shows comm when there are none', () => {
    expect(labelFor({ comm: 'sleep', filename: '/usr/bin/sleep', args: ['sleep', '60'] })).toBe('sleep 60');
    expect(labelFor({ comm: 'kworker/0:1', filename: '', args: [] })).toBe('kworker/0:1');
    expect(labelFor({ comm: 'python3', filename: '', args: [] })).toBe('python3');
  });
});
