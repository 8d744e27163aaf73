// The project's error contract in one assertion: fn throws an error of the given
// class whose message matches and fits on one line.
import { expect } from 'vitest';

export function expectOneLineError(fn: () => unknown, type: new (...args: never[]) => Error, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(type);
  expect((caught as Error).message).toMatch(message);
  expect((caught as Error).message).not.toContain('\n');
}
