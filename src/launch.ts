// Launch mode (`lifetop -- COMMAND`): COMMAND is started held, before anything is attached; the
// session tracks the held process, and only then is COMMAND exec'd, so its first exec and every
// descendant are observed. Owns the child: its end, signals to it, stopping it when lifetop ends.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { quote } from './core/quote';

/** How COMMAND ended, and the status a shell would give it (128+N for signal N). */
export interface CommandEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  status: number;
}

export interface LaunchOptions {
  /** Its own session and process group (the UI: keys are read by lifetop, Ctrl-C is forwarded). */
  detached: boolean;
  stdio: { stdin: 'inherit' | 'ignore'; stdout: 'inherit' | 'stderr' | number; stderr: 'inherit' | number };
  /** Run as this user (the one who ran sudo), or null to keep lifetop's. */
  user: { uid: number; gid: number; name?: string } | null;
}

export class LaunchError extends Error {
  /** The exit status a shell would give (127: not found, 126: not executable). */
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** How long COMMAND gets to end after SIGTERM when lifetop stops it, before SIGKILL. */
const STOP_GRACE_MS = 3000;

/**
 * The held wrapper: tells lifetop it is waiting (fd 4), waits for the go (fd 3), then becomes
 * COMMAND with neither fd. If lifetop dies first, the read fails and COMMAND never runs.
 */
const HOLD = 'printf x >&4; exec 4>&-; read -r go <&3 || exit 125; exec "$@" 3<&-';

/** The user to run as: the one who ran sudo (SUDO_UID/SUDO_GID), unless --as-root or not under sudo. */
export function invokingUser(env: NodeJS.ProcessEnv, asRoot: boolean): LaunchOptions['user'] {
  if (asRoot || process.getuid?.() !== 0) return null;
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid <= 0 || env.SUDO_UID === '') return null;
  return { uid, gid, name: env.SUDO_USER };
}

/** A regular file with an execute bit: whose bit applies (owner, groups, other) exec itself decides. */
function executable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Resolves COMMAND as a shell would (PATH unless it names a path), or says why it cannot run. */
export function resolveCommand(command: string, env: NodeJS.ProcessEnv): string {
  if (command === '') throw new LaunchError('-- needs a command to run', 127);
  if (command.includes('/')) {
    if (!fs.existsSync(command)) throw new LaunchError(`${quote(command)}: no such file`, 127);
    if (!executable(command)) throw new LaunchError(`${quote(command)}: not an executable file`, 126);
    return command;
  }
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const file = path.join(dir || '.', command);
    if (executable(file)) return file;
  }
  throw new LaunchError(`${quote(command)}: command not found`, 127);
}

export class LaunchedCommand {
  readonly ended: Promise<CommandEnd>;
  /** Set once COMMAND has ended. */
  end: CommandEnd | null = null;
  /** Where its output goes, when not to lifetop's own stdout and stderr (the UI). */
  log?: string;
  private released = false;
  private stopping: Promise<CommandEnd> | null = null;

  private constructor(private readonly child: ChildProcess, readonly pid: number, private readonly detached: boolean) {
    this.ended = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const signo = signal ? os.constants.signals[signal] : 0;
        this.end = { code, signal, status: code ?? 128 + signo };
        resolve(this.end);
      });
    });
  }

  /** Starts the held wrapper; resolves once it waits for release() (nothing of COMMAND has run yet). */
  static async start(argv: string[], opts: LaunchOptions): Promise<LaunchedCommand> {
    const [file, ...args] = argv;
    const wrapper = ['/bin/sh', '-c', HOLD, 'lifetop-launch', file, ...args];
    const asUser = opts.user && fs.existsSync('/usr/bin/setpriv')
      // setpriv gives the user's supplementary groups too; node's uid/gid options would drop them.
      ? ['/usr/bin/setpriv', `--reuid=${opts.user.uid}`, `--regid=${opts.user.gid}`,
        ...(opts.user.name ? ['--init-groups'] : ['--clear-groups']), '--', ...wrapper]
      : wrapper;
    const out = opts.stdio.stdout === 'stderr' ? 2 : opts.stdio.stdout;
    const stdio: StdioOptions = [opts.stdio.stdin, out, opts.stdio.stderr, 'pipe', 'pipe'];
    const child = spawn(asUser[0], asUser.slice(1), {
      stdio, detached: opts.detached,
      ...(opts.user && asUser === wrapper ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
    const failed = new Promise<never>((_, reject) => child.once('error', (err) => reject(new LaunchError(`cannot start ${quote(file)}: ${err.message}`, 126))));
    const waiting = new Promise<void>((resolve, reject) => {
      const ready = child.stdio[4]!;
      ready.once('data', () => resolve());
      ready.once('end', () => reject(new LaunchError(`cannot start ${quote(file)}: the launcher ended before it was ready`, 126)));
    });
    failed.catch(() => undefined); // an error after the launcher is ready shows as its exit status
    await Promise.race([waiting, failed]);
    child.stdio[4]!.destroy();
    return new LaunchedCommand(child, child.pid!, opts.detached);
  }

  /** Lets COMMAND run: call once its process is traced. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const go = this.child.stdio[3] as NodeJS.WritableStream & { destroy(): void };
    go.write('go\n');
    go.end();
  }

  /** A signal to COMMAND's process group when it has one of its own (the UI), else to COMMAND. */
  signal(sig: NodeJS.Signals): boolean {
    if (this.end) return false;
    try {
      process.kill(this.detached ? -this.pid : this.pid, sig);
      return true;
    } catch {
      return false;
    }
  }

  /** Ends COMMAND if it still runs: SIGTERM (its group in the UI), then SIGKILL after a grace. */
  stop(): Promise<CommandEnd> {
    if (this.end) return Promise.resolve(this.end);
    this.stopping ??= (async () => {
      if (!this.released) {
        // Never released: closing the go pipe ends the wrapper before COMMAND runs.
        (this.child.stdio[3] as NodeJS.WritableStream).end();
      } else {
        this.signal('SIGTERM');
      }
      const timer = setTimeout(() => this.signal('SIGKILL'), STOP_GRACE_MS);
      try {
        return await this.ended;
      } finally {
        clearTimeout(timer);
      }
    })();
    return this.stopping;
  }
}
