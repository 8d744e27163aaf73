// The man page and the bash completion, generated at build time (`make`) from the same source as
// --help: cliArgs' USAGE text (every option and its words) and OPTIONS table (every name), so the
// three never drift. Usage: node dist/doc/manpage.js OUTDIR  (writes lifetop.1 and lifetop.bash).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OPTIONS, USAGE } from '../cliArgs';
import { SORT_COLUMNS } from '../model/processTable';

export interface UsageOption {
  /** As written in --help: "-f, --filter LIST". */
  spec: string;
  /** The description, its lines joined by single spaces. */
  text: string;
}

/** An option's argument as --help writes it: capitals ("FILE", "[ADDR:]PORT", "PID[,PID...]") or choices ("bpf|proc"). */
function isArgument(token: string): boolean {
  return /^[^a-z]+$/.test(token) || token.includes('|');
}

/**
 * The option entries of USAGE: a line starting (after its indent) with '-' opens one: its names, an
 * argument, then the description; deeper lines continue the description.
 */
export function usageOptions(usage: string = USAGE): UsageOption[] {
  const out: UsageOption[] = [];
  for (const line of usage.split('\n').slice(2)) {
    if (line.trim() === '') continue;
    const entry = /^ {2,6}((?:-\w, )?--?[\w-]+)(?: (\S+))?(?: +(.*))?$/.exec(line);
    if (entry) {
      let arg = entry[2] !== undefined && isArgument(entry[2]) ? entry[2] : undefined;
      // "-- COMMAND ARGS..." style: more argument words before the description.
      while (arg !== undefined && entry[3] !== undefined && /^(\S+)(?: +|$)/.test(entry[3]) && isArgument(entry[3].split(' ')[0])) {
        const word = entry[3].split(' ')[0];
        arg += ` ${word}`;
        entry[3] = entry[3].slice(word.length).trimStart();
      }
      const text = arg === undefined && entry[2] !== undefined ? `${entry[2]} ${entry[3] ?? ''}`.trim() : entry[3] ?? '';
      out.push({ spec: arg === undefined ? entry[1] : `${entry[1]} ${arg}`, text });
    } else if (out.length > 0) {
      const last = out[out.length - 1];
      last.text += (last.text ? ' ' : '') + line.trim();
    } else {
      throw new Error(`USAGE line outside an option: ${line}`);
    }
  }
  return out;
}

/** roff-safe text: backslashes and hyphens escaped, no line starting with a control character. */
function roff(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
}

/** An option spec in bold, its argument names in italics: "\fB\-f\fR, \fB\-\-filter\fR \fILIST\fR". */
function roffSpec(spec: string): string {
  return spec.split(/(, | )/).map((part) => {
    if (part === ', ' || part === ' ') return part;
    return part.startsWith('-') ? `\\fB${roff(part)}\\fR` : `\\fI${roff(part)}\\fR`;
  }).join('');
}

export function manPage(version: string, usage: string = USAGE): string {
  const [synopsis, summary] = usage.split('\n');
  const p = (text: string) => `.PP\n${roff(text)}\n`;
  const options = usageOptions(usage).map((o) => `.TP\n${roffSpec(o.spec)}\n${roff(o.text)}\n`).join('');
  return [
    `.\\" Generated from lifetop's --help text (src/cliArgs.ts) by src/doc/manpage.ts: do not edit.\n`,
    `.TH LIFETOP 1 "" "lifetop ${roff(version)}" "User Commands"\n`,
    '.SH NAME\nlifetop \\- top\\-like monitor of process lifecycles (fork, exec, exit) from eBPF\n',
    `.SH SYNOPSIS\n${roff(synopsis.replace(/^Usage: /, ''))}\n`,
    '.SH DESCRIPTION\n',
    p(summary),
    p('lifetop shows, live, the processes that match its filter (by default python* and uvicorn* and all their descendants): '
      + 'an event log of their execs, exits and forks, fork/exec/exit rates of the whole machine and of the traced processes, '
      + 'and a table of those running now and those that just ended, with why they ended (exit code, the signal and who sent it, '
      + 'OOM kill, core dump). Headless, it writes an NDJSON event stream (--json), a one-shot table (--snapshot), '
      + 'or runs as a service (--serve) that only serves Prometheus metrics (--metrics) or records.'),
    p('The kernel source needs root, or CAP_BPF and CAP_PERFMON (and CAP_SYS_PTRACE to read the exit status of '
      + "other users' zombies from /proc). Without them use --source proc or --replay."),
    `.SH OPTIONS\n${options}`,
    '.SH METRICS\n',
    p('With --metrics, http://ADDR:PORT/metrics serves the Prometheus text format: lifetop_host_{forks,threads,execs,exits}_total '
      + 'and lifetop_traced_{forks,execs,exits}_total (kernel counters), lifetop_exits_total{group,reason,signal}, '
      + 'lifetop_process_lifetime_seconds{group}, lifetop_running_processes{group}, lifetop_lost_events_total{stage}, '
      + 'lifetop_inferred_total{kind}, lifetop_bpf_run_seconds_total and lifetop_bpf_runs_total (while kernel BPF statistics are on, e.g. sysctl kernel.bpf_stats_enabled=1), lifetop_build_info, '
      + "and the process's own CPU and memory (process_*, nodejs_*). group is the comm or the python program, at most "
      + '--metrics-max-groups distinct values; the rest are counted as "other".'),
    p('The endpoint has no authentication and no TLS: it listens on 127.0.0.1 unless an address is given. '
      + 'Bind another address only on a network you trust or behind a firewall.'),
    '.SH EXIT STATUS\n',
    p('0 done (also when SIGINT, SIGTERM or SIGHUP end the run); 1 a failure (one line on stderr says why); '
      + '2 a usage error.'),
    '.SH EXAMPLES\n',
    '.nf\n',
    roff([
      "lifetop -f '*'                                   # every process on the machine",
      "lifetop --json -f 'uvicorn*' --duration 60 > events.ndjson",
      'lifetop --snapshot now.csv --duration 3',
      'lifetop --serve --metrics :9464                  # a service for Prometheus (every address)',
      'lifetop --replay session.ndjson --serve --metrics 9464   # a recording, for dashboards',
    ].join('\n')) + '\n',
    '.fi\n',
    '.SH SEE ALSO\n\\fBprometheus\\fR(1), \\fBsystemd.exec\\fR(5), \\fBcapabilities\\fR(7)\n',
  ].join('');
}

/** Option values the shell can offer. */
function valueWords(): Record<string, string> {
  return {
    source: 'bpf proc',
    'on-bad-line': 'skip abort',
    'replay-speed': 'max realtime',
    sort: SORT_COLUMNS.flatMap((c) => [c, `${c}:asc`, `${c}:desc`]).join(' '),
  };
}

const FILE_OPTIONS = new Set(['snapshot', 'record', 'replay']);

export function bashCompletion(): string {
  const words = valueWords();
  const names = Object.entries(OPTIONS).flatMap(([name, o]) => ['--' + name, ...('short' in o ? ['-' + o.short] : [])]);
  const cases: string[] = [];
  for (const [name, o] of Object.entries(OPTIONS)) {
    if (o.type !== 'string') continue;
    const pat = ['--' + name, ...('short' in o ? ['-' + o.short] : [])].join('|');
    if (FILE_OPTIONS.has(name)) cases.push(`    ${pat}) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;`);
    else if (words[name]) cases.push(`    ${pat}) COMPREPLY=($(compgen -W "${words[name]}" -- "$cur")); return ;;`);
    else cases.push(`    ${pat}) return ;;`);
  }
  return `# bash completion for lifetop. Generated from its option table (src/cliArgs.ts) by src/doc/manpage.ts: do not edit.
_lifetop() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} i
  COMPREPLY=()
  # After "--": the command to launch, then its arguments.
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ \${COMP_WORDS[i]} == -- ]]; then
      if ((i == COMP_CWORD - 1)); then COMPREPLY=($(compgen -c -- "$cur")); else compopt -o default 2>/dev/null; fi
      return
    fi
  done
  case $prev in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "${names.join(' ')}" -- "$cur"))
}
complete -F _lifetop lifetop
`;
}

/** Writes lifetop.1 and lifetop.bash into outDir. */
function main(outDir: string): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'lifetop.1'), manPage(pkg.version));
  fs.writeFileSync(path.join(outDir, 'lifetop.bash'), bashCompletion());
}

if (require.main === module) main(process.argv[2] ?? 'build/doc');
