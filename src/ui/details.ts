// Details popup body for one process: identity, exit status, full argv (one argument per line,
// sanitized and wrapped) and the parent chain. The frame and scrolling come from text.frame().

import type { ProcessRow } from '../model/processTable';
import { clockText, formatAge, formatCpu, formatKb, formatLifetime, rowAgeMs } from '../core/format';
import { endingOfRow, reasonOf, reasonText } from '../core/exitReason';
import { wrap, type Segment } from './text';

type Body = Segment[][];

function field(name: string, value: string, width: number, body: Body): void {
  const label = name.padEnd(10);
  wrap(value, Math.max(1, width - label.length)).forEach((part, i) => {
    body.push(i === 0 ? [{ text: label, style: 'key' }, { text: part }] : [{ text: ' '.repeat(label.length) + part }]);
  });
}

function statusText(row: ProcessRow, now: number): string {
  const end = endingOfRow(row);
  if (!end) return `running for ${formatAge(rowAgeMs(row, now))}`;
  const lived = row.lifetimeMs !== null ? ` after ${formatLifetime(row.lifetimeMs)}` : '';
  const at = row.exitedAt !== null ? ` at ${clockText(row.exitedAt, 'HH:mm:ss.SSS')}` : '';
  return row.state === 'lost' ? `lost (gone from /proc, exit not seen)${at}` : `${reasonText(end)}${lived}${at}`;
}

export function detailsBody(row: ProcessRow | undefined, chain: readonly ProcessRow[], width: number, now: number): Body {
  if (!row) return [[{ text: 'This process is no longer in the table (its retention expired).' }]];
  const body: Body = [];
  field('PID', `${row.pid}   PPID ${row.ppid}   key ${row.key}`, width, body);
  field('User', `${row.user} (uid ${row.uid})`, width, body);
  field('Comm', row.comm, width, body);
  field('Label', row.label, width, body);
  field('Filename', row.filename || '(unknown)', width, body);
  field('Started', `${clockText(row.startedAt, 'yyyy-MM-dd HH:mm:ss.SSS')}`, width, body);
  field('Status', statusText(row, now), width, body);
  const end = endingOfRow(row);
  if (end) field('Reason', reasonOf(end), width, body);
  field('CPU / RSS', `${formatCpu(row.cpuPct)}%  ${formatKb(row.rssKb)}`, width, body);
  field('Unit', row.unit || (row.cgroup === '/' ? '(root cgroup)' : '(unknown)'), width, body);
  field('Cgroup', row.cgroup || '(unknown)', width, body);
  field('Cgroup id', row.cgroupId, width, body);
  field('Seen by', row.seeded ? 'seeded: already running, read from /proc'
    : row.recovered ? 'recovered: its events were lost, found in /proc' : 'its exec/fork event', width, body);
  if (row.state !== 'running') {
    field('Exit from', row.state === 'lost' ? 'nobody: gone, its exit was not observed'
      : row.exitFromProc ? '/proc: an unreaped zombie, status from stat field 52' : 'the kernel', width, body);
  }
  body.push([{ text: `Arguments (${row.args.length}${row.argsTruncated ? ', truncated by the kernel buffer' : ''})`, style: 'key' }]);
  row.args.forEach((arg, i) => field(`  [${i}]`, arg, width, body));
  body.push([{ text: 'Parent chain', style: 'key' }]);
  const parents = chain.filter((p) => p.key !== row.key); // the model's chain may start with the row itself
  if (parents.length === 0) body.push([{ text: '  (no parent in the table)' }]);
  for (const p of parents) field(`  ${p.pid}`, `${p.comm}  ${p.label}`, width, body);
  return body;
}
