// The full-text index of IMAP SEARCH (migrations 010, 012) and the SORT/THREAD keys of each
// stored body (migration 012): one entry per stored body, written when the body is first stored
// for a mailbox message, removed with the body by a trigger. SEARCH asks the index for candidate
// messages, then checks each candidate exactly against the folded text kept in the index
// (src/imap/commands/search.ts): the trigram match only rules messages out.
import { decodeHeaderValue, findHeaderEnd, foldText, parseHeaderBlock, searchableText, sortKeysOf, type HeaderField, type MimePart, type SortKeys } from '../mime';
import { addressText } from '../mime/address-text';
import { readBody } from './messages';
import { cachedStatement, type Db } from './database';

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

/** The three columns of body_search_text for one message, folded. */
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

/** Indexes a body unless it already is (shared bodies are indexed once). Inside the caller's transaction. */
export function indexBody(db: Db, hash: string, raw: Buffer, structure: MimePart): void {
  if (cachedStatement(db, 'SELECT 1 FROM body_search WHERE hash = ?').get(hash)) return;
  const fields = parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0).bodyStart);
  const keys = sortKeysOf(fields);
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
  const doc = searchDocument(raw, structure, fields);
  cachedStatement(db, 'INSERT INTO body_search_text (rowid, subject, headers, body) VALUES (?, ?, ?, ?)').run(id, doc.subject, doc.headers, doc.body);
}

/** Whether every body of a mailbox message is indexed (the backfill after migration 010 is done). */
export function searchIndexReady(db: Db): boolean {
  const row = cachedStatement(db, 'SELECT backfilled FROM search_index_state WHERE id = 1').get() as { backfilled: number } | undefined;
  return row?.backfilled === 1;
}

/**
 * UIDs of the messages of a mailbox whose indexed text matches an FTS5 query (built by the IMAP
 * side from the search keys), or null when the index is not complete yet.
 */
export function searchCandidates(db: Db, mailboxId: number, ftsQuery: string): Set<number> | null {
  if (!searchIndexReady(db)) return null;
  const rows = cachedStatement(
    db,
    // Driven by the index (CROSS JOIN keeps that order): the matching bodies first, then the
    // messages of this mailbox that hold them (messages_body_hash index).
    `SELECT m.uid FROM body_search_text f
     CROSS JOIN body_search s ON s.id = f.rowid
     CROSS JOIN messages m INDEXED BY messages_body_hash ON m.body_hash = s.hash
     WHERE body_search_text MATCH ? AND m.mailbox_id = ?`,
  )
    .raw(true)
    .all(ftsQuery, mailboxId) as Array<[number]>;
  return new Set(rows.map((row) => row[0]));
}

/**
 * Indexes up to `batch` bodies of mailbox messages stored before migration 010 (or 012); returns how many
 * it indexed, and marks the index complete once none is left. The daemon calls it in the
 * background until it returns 0.
 */
export function backfillSearchIndex(db: Db, batch = 200): number {
  if (searchIndexReady(db)) return 0;
  const pending = cachedStatement(
    db,
    `SELECT b.hash, b.content, (SELECT structure FROM messages m WHERE m.body_hash = b.hash LIMIT 1) AS structure
     FROM bodies b
     WHERE EXISTS (SELECT 1 FROM messages m WHERE m.body_hash = b.hash)
       AND NOT EXISTS (SELECT 1 FROM body_search s WHERE s.hash = b.hash)
     LIMIT ?`,
  ).all(batch) as Array<{ hash: string; content: Buffer; structure: string }>;
  db.transaction(() => {
    for (const row of pending) indexBody(db, row.hash, row.content, JSON.parse(row.structure) as MimePart);
    if (pending.length < batch) cachedStatement(db, 'UPDATE search_index_state SET backfilled = 1 WHERE id = 1').run();
  }).immediate();
  return pending.length;
}

/** The folded text the index keeps for the given messages of a mailbox (those indexed), by UID. */
export function indexedTexts(db: Db, mailboxId: number, uids: readonly number[]): Map<number, IndexedText> {
  const rows = cachedStatement(
    db,
    `SELECT m.uid, f.subject, f.headers, f.body FROM messages m
     JOIN body_search s ON s.hash = m.body_hash
     JOIN body_search_text f ON f.rowid = s.id
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

interface SortQueryRow {
  uid: number;
  internal_date: number;
  size: number;
  body_hash: string;
  base_subject: string | null;
  reply_or_forward: number;
  sort_from: string;
  sort_to: string;
  sort_cc: string;
  display_from: string;
  display_to: string;
  sent_date: number | null;
  thread_message_id: string | null;
  thread_references: string;
}

/**
 * SORT/THREAD keys of the given messages of a mailbox (UIDs ascending), ascending by UID: from
 * the index, or from the message's header when its body is not indexed yet (backfill after
 * migration 012). A dense selection (SORT … ALL) is read as one UID range of the covering index
 * messages_sort_keys, a sparse one UID by UID.
 */
export function sortRows(db: Db, mailboxId: number, uids: readonly number[]): SortRow[] {
  if (uids.length === 0) return [];
  const columns = `m.uid, m.internal_date, m.size, m.body_hash, s.base_subject, s.reply_or_forward, s.sort_from, s.sort_to, s.sort_cc,
       s.display_from, s.display_to, s.sent_date, s.thread_message_id, s.thread_references`;
  const [low, high] = [uids[0], uids[uids.length - 1]];
  let rows: SortQueryRow[];
  if (high - low < 4 * uids.length) {
    const wanted = new Set(uids);
    rows = (
      cachedStatement(
        db,
        `SELECT ${columns} FROM messages m INDEXED BY messages_sort_keys LEFT JOIN body_search s ON s.hash = m.body_hash
         WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
      ).all(mailboxId, low, high) as SortQueryRow[]
    ).filter((row) => wanted.has(row.uid));
  } else {
    rows = cachedStatement(
      db,
      `SELECT ${columns} FROM messages m LEFT JOIN body_search s ON s.hash = m.body_hash
       WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid`,
    ).all(mailboxId, JSON.stringify(uids)) as SortQueryRow[];
  }
  return rows.map((row) => {
    const base = { uid: row.uid, internalDate: row.internal_date, size: row.size };
    if (row.base_subject === null) {
      const raw = readBody(db, row.body_hash) ?? Buffer.alloc(0);
      return { ...base, ...sortKeysOf(parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0).bodyStart)) };
    }
    return {
      ...base,
      baseSubject: row.base_subject,
      replyOrForward: row.reply_or_forward === 1,
      from: row.sort_from,
      to: row.sort_to,
      cc: row.sort_cc,
      displayFrom: row.display_from,
      displayTo: row.display_to,
      sentDate: row.sent_date,
      messageId: row.thread_message_id,
      references: row.thread_references === '' ? [] : row.thread_references.split(' '),
    };
  });
}
