'use strict';
// Usage: node hangupWatch.cjs RESULT COMMAND [ARGS...]
// Runs COMMAND on this process's terminal and outlives the terminal's hang-up (SIGHUP is ignored here,
// not in COMMAND: spawn resets signal dispositions), then writes how COMMAND ended to RESULT as JSON:
// {code, signal, probe}. `probe` is what a write to the terminal got afterwards: "EIO" proves the pty
// really hung up (its master closed), "ok" that it is still there.
const { spawn } = require('node:child_process');
const fs = require('node:fs');

process.on('SIGHUP', () => undefined);
const [result, command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  let probe = 'ok';
  try {
    fs.writeSync(1, '\n');
  } catch (err) {
    probe = err.code;
  }
  fs.writeFileSync(`${result}.tmp`, `${JSON.stringify({ code, signal, probe })}\n`);
  fs.renameSync(`${result}.tmp`, result);
  // Node itself aborts at exit on a hung-up terminal (nodejs/node#51519): leave without that noise.
  process.kill(process.pid, 'SIGKILL');
});
