#!/usr/bin/env node
'use strict';
// How the table scales: for 50 and 50 000 rows, the cost of applying events, of a
// sorted and searched view, and of building one 80x24 frame of the table pane
// (only the visible rows are formatted). Prints figures; asserts nothing.
// Usage: node bench/table.js   (after `make`)
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');
const { ProcessTable } = require(path.join(dist, 'model/processTable.js'));
const { renderTable } = require(path.join(dist, 'ui/tablePane.js'));
const { makeTheme } = require(path.join(dist, 'ui/theme.js'));

const BOOT = Date.UTC(2026, 0, 1);

function events(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const start = (1000 + i) * 1e7;
    const base = { time: BOOT + start / 1e6, pid: 10_000 + i, ppid: 1, tid: 10_000 + i, uid: 0, start, startedAt: BOOT + start / 1e6, cgroupId: '1' };
    out.push({ ...base, type: 'exec', comm: i % 3 ? 'python3' : 'uvicorn', filename: '/usr/bin/python3', args: ['python3', `job${i}.py`, '--n', String(i)], argsTruncated: false });
    if (i % 4 === 0) out.push({ ...base, type: 'exit', comm: 'python3', time: base.time + 5, exitCode: i % 7, signal: 0, coreDumped: false, durationMs: 5, cpuMs: 1 });
  }
  return out;
}

function time(fn, reps) {
  fn(); // warm
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e6 / reps;
}

const theme = makeTheme({ color: true, ascii: false });
console.log('rows      apply all   view(sort)  view(search)  frame 80x24   scroll 1 row');
for (const n of [50, 50_000]) {
  const evs = events(n);
  const now = BOOT + 2000 * 1e4;
  let table;
  const apply = time(() => {
    table = new ProcessTable({ maxRows: 100_000, retentionMs: 1e12 });
    table.apply(evs, now);
  }, n > 1000 ? 3 : 50);
  let flip = false;
  const view = time(() => {
    flip = !flip; // a different sort each time, so no cached answer
    table.view({ sort: { column: flip ? 'label' : 'pid', descending: flip }, query: '', showExited: true }, now);
  }, 10);
  const search = time(() => {
    flip = !flip;
    table.view({ sort: { column: 'pid', descending: false }, query: flip ? 'job1' : 'job2', showExited: true }, now);
  }, 10);
  const rows = table.view({ sort: { column: 'started', descending: true }, query: '', showExited: true }, now);
  const view0 = { selected: 0, scroll: 0, sort: { column: 'started', descending: true }, focused: true, emptyText: '' };
  const frame = time(() => renderTable(rows, view0, 80, 14, theme, now), 200);
  let pos = 0;
  const scroll = time(() => {
    pos = (pos + 1) % Math.max(1, rows.length - 14);
    renderTable(rows, { ...view0, selected: pos, scroll: pos }, 80, 14, theme, now);
  }, 200);
  console.log(`${String(n).padStart(6)} ${apply.toFixed(2).padStart(10)} ms ${view.toFixed(2).padStart(8)} ms ${search.toFixed(2).padStart(9)} ms ${frame.toFixed(3).padStart(9)} ms ${scroll.toFixed(3).padStart(10)} ms`);
}
const mb = process.memoryUsage().heapUsed / 1024 / 1024;
console.log(`heap in use after both: ${mb.toFixed(0)} MiB`);
