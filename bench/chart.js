#!/usr/bin/env node
'use strict';
// Frame cost of the rate-history view (g) with 600 points a series: blessed-contrib's line chart
// (colour) and the text chart (--ascii / --no-color), at 80x24 and 160x50, drawn into a screen whose
// output is a sink. Prints figures; asserts nothing. Usage: node bench/chart.js   (after `make`)
const path = require('node:path');
const { PassThrough } = require('node:stream');
const blessed = require('blessed');
const dist = path.join(__dirname, '..', 'dist');
const { ChartView } = require(path.join(dist, 'ui/chartPane.js'));
const { makeTheme } = require(path.join(dist, 'ui/theme.js'));

const names = ['forks', 'execs', 'exits', 'tracedForks', 'tracedExecs', 'tracedExits'];
const data = Object.fromEntries(names.map((n, k) => [n, Array.from({ length: 600 }, (_, i) => 300 + 200 * Math.sin(i / (20 + k)) + (i % 37))]));
const rates = { series: (n) => data[n], stats: () => ({ current: 0, peak: 0, avg: 0 }) };

function screenOf(cols, rows) {
  const output = new PassThrough();
  output.columns = cols;
  output.rows = rows;
  output.isTTY = true;
  output.on('data', () => undefined);
  const input = new PassThrough();
  input.setRawMode = () => undefined;
  input.isTTY = true;
  return blessed.screen({ input, output, terminal: 'xterm-256color', warnings: false, fastCSR: true });
}

console.log('chart view, 600 points x 6 series      frame (setData/setContent + screen.render)');
for (const [cols, rows] of [[80, 24], [160, 50]]) {
  for (const [label, theme] of [['contrib line (colour)', makeTheme({ color: true, ascii: false })], ['text (--ascii)', makeTheme({ color: true, ascii: true })]]) {
    const screen = screenOf(cols, rows);
    const view = new ChartView(screen, theme);
    view.place({ top: 2, left: 0, width: cols, height: rows - 3 });
    const frame = () => {
      view.show(rates);
      screen.render();
    };
    for (let i = 0; i < 5; i++) frame();
    const reps = 40;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) frame();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / reps;
    console.log(`${(cols + 'x' + rows).padEnd(8)} ${label.padEnd(24)} ${ms.toFixed(2).padStart(7)} ms`);
    screen.destroy();
  }
}
