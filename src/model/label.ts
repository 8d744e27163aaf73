// Human label for a process row: for python, the script or module it runs rather
// than "python3"; for uvicorn, which app and whether this is the master or a worker.

export interface LabelInput {
  comm: string;
  filename: string;
  args: string[];
}

export interface LabelParent extends LabelInput {
  label: string;
}

const PYTHON = /^python[0-9.]*$/;
const UVICORN = 'uvicorn';
const CODE_MAX = 40;
/** Interpreter options that consume the next argument (python3 --help). */
const OPTS_WITH_VALUE = new Set(['-X', '-W', '--check-hash-based-pycs']);
const MASTER_SUFFIX = ' master';

type PythonTarget =
  | { kind: 'script'; value: string; rest: string[] }
  | { kind: 'module'; value: string; rest: string[] }
  | { kind: 'code'; value: string; rest: string[] }
  | { kind: 'stdin' | 'repl'; value: ''; rest: string[] };

export function labelFor(input: LabelInput, parent?: LabelParent): string {
  if (parent && sameImage(input, parent)) return inheritedLabel(parent);
  const argv0 = basename(input.args[0] ?? '');
  if (argv0 === UVICORN) return uvicornMaster(input.args.slice(1));
  // Python's own argv only: a rewritten one (setproctitle) is what the program wants shown.
  if (isPython(input) && (input.args.length === 0 || PYTHON.test(argv0))) return pythonLabel(input, parent);
  if (input.comm === UVICORN) return uvicornMaster(input.args.slice(1));
  return input.args.length > 0 ? input.args.join(' ') : input.comm;
}

/** A forked child that has not exec'd yet still runs its parent's image. */
function sameImage(input: LabelInput, parent: LabelInput): boolean {
  return input.filename === parent.filename && input.comm === parent.comm && sameArgs(input.args, parent.args);
}

function sameArgs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((arg, i) => arg === b[i]);
}

function inheritedLabel(parent: LabelParent): string {
  return isUvicornMaster(parent.label) ? toWorker(parent.label) : parent.label;
}

function isUvicornMaster(label: string): boolean {
  return label.startsWith(UVICORN + ' ') && label.endsWith(MASTER_SUFFIX);
}

function toWorker(masterLabel: string): string {
  return masterLabel.slice(0, -MASTER_SUFFIX.length) + ' worker';
}

function isPython(input: LabelInput): boolean {
  return [input.comm, basename(input.filename), basename(input.args[0] ?? '')].some((s) => PYTHON.test(s));
}

function pythonLabel(input: LabelInput, parent?: LabelParent): string {
  const target = pythonTarget(input.args);
  if (isSpawnChild(target, input.args)) {
    if (!parent) return 'mp worker';
    return isUvicornMaster(parent.label) ? toWorker(parent.label) : `mp worker of ${parent.label}`;
  }
  switch (target.kind) {
    case 'module':
      return target.value === UVICORN ? uvicornMaster(target.rest) : `-m ${target.value}`;
    case 'script':
      // pip-installed entry points (#!/usr/bin/python3 + /usr/bin/uvicorn) show up as a script.
      return basename(target.value) === UVICORN ? uvicornMaster(target.rest) : target.value;
    case 'code':
      return `-c '${shorten(target.value)}'`;
    case 'stdin':
      return `${interpreterName(input)} -`;
    case 'repl':
      return interpreterName(input);
  }
}

/** multiprocessing's spawn start method re-runs the interpreter with these arguments. */
function isSpawnChild(target: PythonTarget, args: string[]): boolean {
  if (target.kind === 'code' && target.value.trimStart().startsWith('from multiprocessing.spawn import spawn_main')) {
    return true;
  }
  return args.includes('--multiprocessing-fork');
}

/** Walks python's own option syntax to find what it will run. */
function pythonTarget(args: string[]): PythonTarget {
  for (let i = 1; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-') return { kind: 'stdin', value: '', rest: args.slice(i + 1) };
    if (!arg.startsWith('-')) return { kind: 'script', value: arg, rest: args.slice(i + 1) };
    if (arg === '--') continue;
    if (arg.startsWith('--')) {
      if (OPTS_WITH_VALUE.has(arg)) i++;
      continue;
    }
    // A cluster of short options such as -uc or -Xdev: c and m end it and take a value.
    for (let j = 1; j < arg.length; j++) {
      const opt = arg[j];
      if (opt === 'c' || opt === 'm') {
        const inline = arg.slice(j + 1);
        const value = inline !== '' ? inline : (args[i + 1] ?? '');
        const restAt = inline !== '' ? i + 1 : i + 2;
        return { kind: opt === 'c' ? 'code' : 'module', value, rest: args.slice(restAt) };
      }
      if (opt === 'X' || opt === 'W') {
        if (j === arg.length - 1) i++;
        break;
      }
    }
  }
  return { kind: 'repl', value: '', rest: [] };
}

function uvicornMaster(args: string[]): string {
  // The app is the one "module:attr" argument; option values (--host 0.0.0.0) never look like that.
  const app = args.find((a) => /^[\w.]+:[\w.]+$/.test(a));
  return app ? `${UVICORN} ${app}${MASTER_SUFFIX}` : UVICORN + MASTER_SUFFIX;
}

function interpreterName(input: LabelInput): string {
  const fromArgs = basename(input.args[0] ?? '');
  return PYTHON.test(fromArgs) ? fromArgs : input.comm;
}

function shorten(code: string): string {
  const flat = code.replace(/\s+/g, ' ').trim();
  return flat.length > CODE_MAX ? flat.slice(0, CODE_MAX - 1) + '…' : flat;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The program a row runs, coarse enough to group by (metrics): for python the script's file name,
 * `-m module` or `python3 -c`; for uvicorn its app without master/worker; otherwise the comm. Raw
 * (untrusted) text: the caller sanitizes.
 */
export function programOf(row: LabelInput & { label: string }): string {
  const { label, comm } = row;
  if (label === UVICORN + MASTER_SUFFIX || label.startsWith(UVICORN + ' ')) return label.replace(/ (master|worker)$/, '');
  const argv0 = basename(row.args[0] ?? '');
  const python = isPython(row) && (row.args.length === 0 || PYTHON.test(argv0));
  if (!python || label === '') return comm;
  if (label.startsWith("-c '")) return `${comm} -c`;
  if (label.startsWith('-m ')) return label;
  if (label.startsWith('mp worker')) return 'mp worker';
  if (label === comm || label.endsWith(' -') || PYTHON.test(label)) return comm;
  return basename(label);
}
