// The per-process FETCH cache (src/imap/fetch-cache.ts): an entry serves only the message it was
// made for (mailbox, UID, UIDVALIDITY and body hash), and the cache stays within its budget.
import t from 'tap';
import { ENTRY_OVERHEAD, RenderingCache } from '../../src/imap/fetch-cache';
import type { MessageKey } from '../../src/store/imap-messages';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

/** The key of a message stored with body `bodyHash`. */
function key(uid: number, bodyHash: string): MessageKey {
  return { uid, internalDate: 1_700_000_000_000 + uid, size: 100 + uid, bodyHash };
}

t.test('an entry is found again only for the same mailbox, UID, UIDVALIDITY and body', async (t) => {
  const cache = new RenderingCache(1 << 20);
  const entry = cache.entryFor(7, 100, key(1, HASH_A));
  entry.envelope = '("kept")';
  cache.charge(entry, 8);
  t.equal(cache.entryFor(7, 100, key(1, HASH_A)).envelope, '("kept")', 'the same message: kept');
  t.equal(cache.entryFor(8, 100, key(1, HASH_A)).envelope, null, 'another mailbox, same UID');
  t.equal(cache.entryFor(7, 100, key(2, HASH_A)).envelope, null, 'another UID, same body');
  t.equal(cache.entryFor(7, 101, key(1, HASH_A)).envelope, null, 'a new UIDVALIDITY: UID 1 may be another message');
  t.equal(cache.entryFor(7, 100, key(1, HASH_A)).envelope, null, 'the entry of the old UIDVALIDITY was replaced, not kept beside');
  const other = cache.entryFor(7, 100, key(1, HASH_B));
  t.equal(other.envelope, null, 'another body under the same identity is never served the kept data');
});

t.test('past its budget the cache forgets the oldest entries', async (t) => {
  const cache = new RenderingCache(10 * (100 + ENTRY_OVERHEAD));
  for (let uid = 1; uid <= 50; uid++) {
    const entry = cache.entryFor(1, 1, key(uid, HASH_A));
    entry.envelope = `(${uid})`;
    cache.charge(entry, 100);
  }
  t.equal(cache.size, 10, 'ten entries of 100 (and the overhead of each) fit');
  t.equal(cache.entryFor(1, 1, key(50, HASH_A)).envelope, '(50)', 'the newest stays');
  t.equal(cache.entryFor(1, 1, key(1, HASH_A)).envelope, null, 'the oldest went');
});

t.test('entries never filled still count: the cache cannot grow without bound on empty entries', async (t) => {
  const cache = new RenderingCache(10 * ENTRY_OVERHEAD);
  for (let uid = 1; uid <= 1000; uid++) cache.entryFor(1, 1, key(uid, HASH_A));
  t.equal(cache.size, 10);
});
