// The disk flushes of the group commit (src/store/wal-flush.ts), under the tests' control: node:fs's
// fdatasync is replaced for the rest of the test, to see what is acknowledged before and after a
// flush returns, or what happens when one fails.
import fs from 'node:fs';

type Fdatasync = typeof fs.fdatasync;
type FlushCallback = (err: NodeJS.ErrnoException | null) => void;

function replaceFdatasync(t: { teardown(fn: () => void): void }, replacement: (fd: number, callback: FlushCallback) => void): Fdatasync {
  const original = fs.fdatasync;
  (fs as { fdatasync: Fdatasync }).fdatasync = replacement as Fdatasync;
  t.teardown(() => {
    (fs as { fdatasync: Fdatasync }).fdatasync = original;
  });
  return original;
}

/** Every flush waits for `release()`; counts the calls and the files they were for. */
export function holdFlushes(t: { teardown(fn: () => void): void }) {
  const held: Array<() => void> = [];
  const files: string[] = [];
  const original = replaceFdatasync(t, (fd, callback) => {
    files.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
    held.push(() => original(fd, callback));
  });
  return {
    calls: () => files.length,
    files,
    /** Flushes waiting for release(). */
    waiting: () => held.length,
    /** Lets the oldest held flush run for real. */
    release: () => held.shift()?.(),
  };
}

/** Every flush fails as a disk error would (EIO). */
export function failFlushes(t: { teardown(fn: () => void): void }): void {
  replaceFdatasync(t, (_fd, callback) => {
    const err: NodeJS.ErrnoException = new Error('EIO: i/o error, fdatasync');
    err.code = 'EIO';
    process.nextTick(callback, err);
  });
}
