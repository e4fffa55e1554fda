// The full-text index of IMAP SEARCH (migrations 010, 012, 017) and the SORT/THREAD keys of each
// stored body (migration 012): one entry per stored body. Its keys and folded text are removed
// with the body by a trigger; its FTS5 entry is listed in search_forget and removed by the
// background indexer (migration 017: removing it inside the EXPUNGE cost milliseconds).
// Indexed after the fact (migration 014): storing a body for a mailbox message only lists it in
// search_pending, in the same transaction; the daemon's background indexer
// (src/jobs/search-indexer.ts) indexes pending bodies in small batches shortly after. SEARCH asks
// the index for candidate messages, adds the mailbox's messages whose body is still pending, then
// checks each candidate exactly (src/imap/commands/search.ts): against the folded text kept in the
// index, or by decoding a pending one. The trigram match only rules messages out.
import { decodeHeaderValue, findHeaderEnd, foldText, parseHeaderBlock, searchableText, sortKeysOf, type HeaderField, type MimePart, type SortKeys } from '../mime';
import { addressText } from '../mime/address-text';
import { readBody } from './messages';
import { cachedStatement, commitUnflushed, type Db } from './database';

/** Header fields holding addresses: indexed in their parsed form too (see addressText). */
const ADDRESS_FIELDS = new Set(['from', 'to', 'cc', 'bcc', 'sender', 'reply-to']);

/**
 * The folded text SEARCH compares (src/mime foldText): the subjects, one line per header field
 * (`name: decoded value`, field name in lower case; address fields a second time in their
 * parsed form `name: Name <local@domain>`), and the decoded text parts.
 */
export interface IndexedText {
  subject: string;
  headers: string;
  body: string;
}

const oneLine = (text: string): string => (text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text);

/** The three columns of body_search_folded (and body_search_fts) for one message, folded. */
export function searchDocument(raw: Buffer, structure: MimePart, fields?: readonly HeaderField[]): IndexedText {
  fields ??= parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0).bodyStart);
  const subjects: string[] = [];
  const headers: string[] = [];
  for (const field of fields) {
    const value = oneLine(decodeHeaderValue(field.value));
    if (field.key === 'subject') subjects.push(value);
    headers.push(`${field.key}: ${value}`);
    if (ADDRESS_FIELDS.has(field.key)) headers.push(`${field.key}: ${oneLine(addressText(field.value))}`);
  }
  return { subject: foldText(subjects.join('\n')), headers: foldText(headers.join('\n')), body: foldText(searchableText(raw, structure)) };
}

/**
 * Lists a body stored for a mailbox message as waiting for the indexer, unless it is indexed or
 * listed already (a shared body is indexed once). Inside the caller's transaction: cheap (two
 * index lookups and a small row), so that APPEND and delivery do not pay the indexing.
 */
export function markForIndexing(db: Db, hash: string, now: number): void {
  cachedStatement(db, 'INSERT OR IGNORE INTO search_pending (hash, queued_at) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM body_search WHERE hash = ?)').run(hash, now, hash);
}

/** What indexing one body writes, prepared before the write transaction (see indexPendingBodies). */
interface PreparedEntry {
  hash: string;
  keys: SortKeys;
  doc: IndexedText;
}

/** Decodes and folds a body for the index: the CPU-heavy part, which needs no lock. */
function prepareEntry(hash: string, raw: Buffer, structure: MimePart): PreparedEntry {
  const fields = parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0).bodyStart);
  return { hash, keys: sortKeysOf(fields), doc: searchDocument(raw, structure, fields) };
}

/** Writes a prepared entry unless the body is indexed already (shared bodies are indexed once). Inside the caller's transaction. */
function writeEntry(db: Db, { hash, keys, doc }: PreparedEntry): void {
  if (cachedStatement(db, 'SELECT 1 FROM body_search WHERE hash = ?').get(hash)) return;
  const { id } = cachedStatement(
    db,
    `INSERT INTO body_search (hash, base_subject, reply_or_forward, sort_from, sort_to, sort_cc, display_from, display_to,
       sent_date, thread_message_id, thread_references)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  ).get(
    hash,
    keys.baseSubject,
    keys.replyOrForward ? 1 : 0,
    keys.from,
    keys.to,
    keys.cc,
    keys.displayFrom,
    keys.displayTo,
    keys.sentDate,
    keys.messageId,
    keys.references.join(' '),
  ) as { id: number };
  cachedStatement(db, 'INSERT INTO body_search_folded (id, subject, headers, body) VALUES (?, ?, ?, ?)').run(id, doc.subject, doc.headers, doc.body);
  cachedStatement(db, 'INSERT INTO body_search_fts (rowid, subject, headers, body) VALUES (?, ?, ?, ?)').run(id, doc.subject, doc.headers, doc.body);
}

/**
 * Whether no stored body waits for the indexer. Only informative: SEARCH is exact either way
 * (pending bodies are candidates and are decoded), so no answer depends on it.
 */
export function searchIndexReady(db: Db): boolean {
  return cachedStatement(db, 'SELECT 1 FROM search_pending LIMIT 1').get() === undefined;
}

/** How many stored bodies wait for the indexer. */
export function pendingBodyCount(db: Db): number {
  return (cachedStatement(db, 'SELECT COUNT(*) AS n FROM search_pending').get() as { n: number }).n;
}

/**
 * UIDs of the messages of a mailbox that may match an FTS5 query (built by the IMAP side from the
 * search keys): those whose indexed text matches, and those whose body is not indexed yet (the
 * caller checks every candidate exactly). One statement, so that a body the indexer moves from
 * pending to indexed meanwhile is seen on one side or the other, never missed.
 */
export function searchCandidates(db: Db, mailboxId: number, ftsQuery: string): Set<number> {
  const rows = cachedStatement(
    db,
    // Driven by the index (CROSS JOIN keeps that order): the matching bodies first, then the
    // messages of this mailbox that hold them (messages_body_hash index); then the (few) pending
    // bodies and their messages in this mailbox.
    // An entry whose body is gone (listed in search_forget) has no body_search row: no match.
    `SELECT m.uid FROM body_search_fts f
     CROSS JOIN body_search s ON s.id = f.rowid
     CROSS JOIN messages m INDEXED BY messages_body_hash ON m.body_hash = s.hash
     WHERE body_search_fts MATCH ? AND m.mailbox_id = ?
     UNION ALL
     SELECT m.uid FROM search_pending p
     CROSS JOIN messages m INDEXED BY messages_body_hash ON m.body_hash = p.hash
     WHERE m.mailbox_id = ?`,
  )
    .raw(true)
    .all(ftsQuery, mailboxId, mailboxId) as Array<[number]>;
  return new Set(rows.map((row) => row[0]));
}

/** What one run of the indexer did. */
export interface IndexerStep {
  /** Bodies indexed in this run. */
  indexed: number;
  /** Whether bodies queued before `queuedBefore` are still pending after it. */
  more: boolean;
}

/** Pending bodies looked at per run at most (the time budget usually stops it first). */
const INDEX_BATCH = 32;
/** Index entries of deleted bodies removed per run at most (the time budget applies too). */
const FORGET_BATCH = 64;

/**
 * Removes the index entries of deleted bodies (search_forget), then indexes pending bodies queued
 * before `queuedBefore` (ms since the epoch; all by default), oldest first, and removes them from
 * search_pending.
 *
 * The bodies are read, decoded and folded first, outside any write transaction (until `budgetMs`
 * has passed; at least one body, so a big one cannot stall the indexer); the write transaction
 * then only inserts what was prepared. The IMAP workers and the MTA wait for that lock: held for
 * the decoding too, by a process at the lowest priority that the scheduler may pause at any
 * moment on a busy machine, it made every session's writes fail to get the lock and try again.
 * Inside the transaction each body is checked to be still pending (expunged meanwhile: skipped).
 *
 * Returns null at once, without waiting, when another connection holds the write lock (the caller
 * tries again a moment later). The commit is not flushed to disk (commitUnflushed): the index is
 * derived data, and a power cut undoes the entry and the removal of its pending row together, so
 * the body is simply indexed again.
 */
export function indexPendingBodies(db: Db, budgetMs: number, queuedBefore = Number.MAX_SAFE_INTEGER, clock: () => number = () => performance.now()): IndexerStep | null {
  const started = clock();
  // Outside the write lock: a read snapshot of its own (WAL), no other connection waits for it.
  const prepared: Array<{ hash: string; entry: PreparedEntry | null }> = [];
  const hashes = cachedStatement(db, 'SELECT hash FROM search_pending WHERE queued_at < ? ORDER BY id LIMIT ?').pluck().all(queuedBefore, INDEX_BATCH) as string[];
  for (const hash of hashes) {
    const body = cachedStatement(
      db,
      `SELECT b.content, (SELECT structure FROM messages m INDEXED BY messages_body_hash WHERE m.body_hash = b.hash LIMIT 1) AS structure
       FROM bodies b WHERE b.hash = ?`,
    ).get(hash) as { content: Buffer; structure: string | null } | undefined;
    // no mailbox message holds it any more (only a relay queue entry): nothing to search
    prepared.push({ hash, entry: body?.structure ? prepareEntry(hash, body.content, JSON.parse(body.structure) as MimePart) : null });
    if (clock() - started >= budgetMs) break;
  }
  return commitUnflushed(
    db,
    () => {
      // The entries of deleted bodies go first: their body_search ids may be handed out again
      // to the bodies indexed below, whose new entries must not meet the old ones.
      const locked = clock();
      const forgotten = cachedStatement(db, 'SELECT id FROM search_forget ORDER BY id LIMIT ?').pluck().all(FORGET_BATCH) as number[];
      for (const id of forgotten) {
        cachedStatement(db, 'DELETE FROM body_search_fts WHERE rowid = ?').run(id);
        cachedStatement(db, 'DELETE FROM search_forget WHERE id = ?').run(id);
        if (clock() - locked >= budgetMs) return { indexed: 0, more: true };
      }
      if (forgotten.length === FORGET_BATCH) return { indexed: 0, more: true };
      let indexed = 0;
      for (const { hash, entry } of prepared) {
        // removed meanwhile (its last message expunged), or indexed by another run: nothing to do
        if (!cachedStatement(db, 'SELECT 1 FROM search_pending WHERE hash = ?').get(hash)) continue;
        if (entry) {
          writeEntry(db, entry);
          indexed++;
        }
        cachedStatement(db, 'DELETE FROM search_pending WHERE hash = ?').run(hash);
      }
      return { indexed, more: cachedStatement(db, 'SELECT 1 FROM search_pending WHERE queued_at < ? LIMIT 1').get(queuedBefore) !== undefined };
    },
    null,
  );
}

/** The folded text the index keeps for the given messages of a mailbox (those indexed), by UID. */
export function indexedTexts(db: Db, mailboxId: number, uids: readonly number[]): Map<number, IndexedText> {
  const rows = cachedStatement(
    db,
    `SELECT m.uid, f.subject, f.headers, f.body FROM messages m
     JOIN body_search s ON s.hash = m.body_hash
     JOIN body_search_folded f ON f.id = s.id
     WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?))`,
  )
    .raw(true)
    .all(mailboxId, JSON.stringify(uids)) as Array<[number, string, string, string]>;
  return new Map(rows.map(([uid, subject, headers, body]) => [uid, { subject, headers, body }]));
}

/** What SORT and THREAD read of one message. */
export interface SortRow extends SortKeys {
  uid: number;
  /** INTERNALDATE in ms (SORT ARRIVAL; stands in for a missing Date:). */
  internalDate: number;
  /** RFC822.SIZE. */
  size: number;
}

/** Groups of keys a SORT or THREAD reads; the others are left empty (no string built for them). */
export type SortKeyGroup = 'sentDate' | 'subject' | 'from' | 'to' | 'cc' | 'displayFrom' | 'displayTo' | 'thread';

/** body_search columns of each group, in SortKeys order. */
const GROUP_COLUMNS: Record<SortKeyGroup, string[]> = {
  sentDate: ['sent_date'],
  subject: ['base_subject', 'reply_or_forward'],
  from: ['sort_from'],
  to: ['sort_to'],
  cc: ['sort_cc'],
  displayFrom: ['display_from'],
  displayTo: ['display_to'],
  thread: ['thread_message_id', 'thread_references'],
};

function emptyKeys(): SortKeys {
  return { baseSubject: '', replyOrForward: false, from: '', to: '', cc: '', displayFrom: '', displayTo: '', sentDate: null, messageId: null, references: [] };
}

/**
 * SORT/THREAD keys of the given messages of a mailbox (UIDs ascending), ascending by UID, only
 * the `groups` asked for: from the index, or from the message's header when its body is not
 * indexed yet (pending, migration 014). A dense selection (SORT … ALL) is read as one UID
 * range of the covering index messages_sort_keys, a sparse one UID by UID; ARRIVAL and SIZE alone
 * never touch body_search.
 */
export function sortRows(db: Db, mailboxId: number, uids: readonly number[], groups: ReadonlySet<SortKeyGroup>): SortRow[] {
  if (uids.length === 0) return [];
  const keyColumns = [...groups].sort().flatMap((group) => GROUP_COLUMNS[group]);
  const joined = keyColumns.length > 0;
  // raw rows (arrays): a SORT of a whole big folder reads 100 000 of them
  const columns = ['m.uid', 'm.internal_date', 'm.size', joined ? 'CASE WHEN s.id IS NULL THEN m.body_hash END' : 'NULL', ...keyColumns.map((column) => `s.${column}`)].join(', ');
  const join = joined ? 'LEFT JOIN body_search s ON s.hash = m.body_hash' : '';
  const [low, high] = [uids[0], uids[uids.length - 1]];
  let rows: unknown[][];
  if (high - low < 4 * uids.length) {
    const all = cachedStatement(
      db,
      `SELECT ${columns} FROM messages m INDEXED BY messages_sort_keys ${join}
       WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
    )
      .raw(true)
      .all(mailboxId, low, high) as unknown[][];
    if (all.length === uids.length) rows = all;
    else {
      const wanted = new Set(uids);
      rows = all.filter((row) => wanted.has(row[0] as number));
    }
  } else {
    rows = cachedStatement(
      db,
      `SELECT ${columns} FROM messages m ${join}
       WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid`,
    )
      .raw(true)
      .all(mailboxId, JSON.stringify(uids)) as unknown[][];
  }
  return rows.map((row) => {
    const [uid, internalDate, size, unindexedHash] = row as [number, number, number, string | null];
    if (unindexedHash !== null) {
      const raw = readBody(db, unindexedHash) ?? Buffer.alloc(0);
      return { uid, internalDate, size, ...sortKeysOf(parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0).bodyStart)) };
    }
    const keys: SortRow = { uid, internalDate, size, ...emptyKeys() };
    let at = 4;
    for (const column of keyColumns) {
      const value = row[at++];
      switch (column) {
        case 'sent_date':
          keys.sentDate = value as number | null;
          break;
        case 'base_subject':
          keys.baseSubject = value as string;
          break;
        case 'reply_or_forward':
          keys.replyOrForward = value === 1;
          break;
        case 'sort_from':
          keys.from = value as string;
          break;
        case 'sort_to':
          keys.to = value as string;
          break;
        case 'sort_cc':
          keys.cc = value as string;
          break;
        case 'display_from':
          keys.displayFrom = value as string;
          break;
        case 'display_to':
          keys.displayTo = value as string;
          break;
        case 'thread_message_id':
          keys.messageId = value as string | null;
          break;
        case 'thread_references':
          keys.references = value === '' ? [] : (value as string).split(' ');
          break;
      }
    }
    return keys;
  });
}
