// A terminal that goes away (the pty closed: a dropped SSH connection, a killed tmux) is a normal way
// for a run to end. These helpers recognise it and cut the process loose from the dead terminal.
import * as fs from 'node:fs';
import * as tty from 'node:tty';

/** What writes and tty calls get once the terminal has hung up (EIO) or the reader left (EPIPE, ENXIO). */
const HANGUP_CODES = new Set(['EIO', 'EPIPE', 'ENXIO']);

export function isHangup(err: unknown): boolean {
  return HANGUP_CODES.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

/** Which of stdin, stdout and stderr were terminals when lifetop started. */
const wasTty = [0, 1, 2].map((fd) => tty.isatty(fd));

/**
 * Points every stdio descriptor whose terminal has hung up at /dev/null; says whether there was one.
 * Node 20 resets the modes of a terminal stdio at exit and aborts (SIGABRT) when tcsetattr fails, which
 * it always does on a hung-up terminal (nodejs/node#51519, fixed in later Node releases): a descriptor
 * that no longer names the terminal is left alone. Whatever is written afterwards goes nowhere.
 */
export function releaseDeadTerminal(): boolean {
  let released = false;
  for (const fd of [0, 1, 2]) {
    if (!wasTty[fd] || tty.isatty(fd)) continue; // a hung-up terminal fails isatty (EIO)
    wasTty[fd] = false;
    released = true;
    try {
      fs.closeSync(fd);
      const got = fs.openSync('/dev/null', fd === 0 ? 'r' : 'w'); // the lowest free slot: fd itself
      if (got !== fd) fs.closeSync(got); // another thread took the slot: a closed descriptor is skipped too
    } catch {
      // on the way out with no terminal: nothing left to tell anyone
    }
  }
  return released;
}
