// Files that survive a crash whole or not at all: the directory publication, the development
// certificates and the downloaded allowlist are written through here. POSIX rename(2) replaces
// the target atomically; fsync on the file, then on its directory, makes the content and then the
// rename durable (a rename lives in the directory, not in the file).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Flushes a directory, so that a rename or a creation in it survives a crash. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates `file` (it must not exist yet) with `content`, flushed to disk; nothing is left on failure. */
export function writeFileFlushed(file: string, content: string | Buffer, mode: number): void {
  const fd = openSync(file, 'wx', mode);
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw err;
  }
  closeSync(fd);
}

/**
 * Writes `content` to `file` so that a reader sees either the old file or the whole new one: a
 * temporary file in the same directory, flushed, renamed over the target, then the directory
 * flushed so the rename survives a crash.
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode: number): void {
  const dir = path.dirname(file);
  const temporary = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileFlushed(temporary, content, mode);
  try {
    renameSync(temporary, file);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
  fsyncDirectory(dir);
}
