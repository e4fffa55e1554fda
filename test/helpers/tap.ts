// The type of the `t` a tap test callback receives (tap 21 exports no short name for it), for
// helpers that take the running test as a parameter.
import type { test } from 'tap';

type TestCallback = Parameters<typeof test>[0]; // the last overload: test(cb)
export type TapTest = Parameters<TestCallback>[0];

/** imapflow answers `false` when a command failed: a test that needs the answer fails loudly. */
export function answered<T>(value: T | false | null | undefined, what: string): T {
  if (value === false || value === null || value === undefined) throw new Error(`${what}: no answer`);
  return value;
}
