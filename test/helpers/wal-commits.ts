// Counting the commits a connection made, from the file another process would read: each commit
// ends with a WAL frame that records the database size (https://sqlite.org/fileformat.html#the_write_ahead_log,
// section 4.1: "For commit records, the size of the database file in pages after the commit. For
// all other records, zero"). Frames left over from before the WAL restarted carry other salts.
import { existsSync, readFileSync } from 'node:fs';
import type { Db } from '../../src/store/database';

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/** Commits written to `db`'s WAL file since it last restarted. */
export function walCommits(db: Db): number {
  const file = `${db.name}-wal`;
  if (!existsSync(file)) return 0;
  const wal = readFileSync(file);
  if (wal.length < WAL_HEADER) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salt = wal.subarray(16, 24);
  let commits = 0;
  for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= wal.length; at += FRAME_HEADER + pageSize) {
    if (!wal.subarray(at + 8, at + 16).equals(salt)) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

/**
 * A counter of `db`'s commits from now on. Turns off automatic checkpoints on `db`: one would
 * restart the WAL and with it the count.
 */
export function commitCounter(db: Db): () => number {
  db.pragma('wal_autocheckpoint = 0');
  const before = walCommits(db);
  return () => walCommits(db) - before;
}
