// The full-text index of IMAP SEARCH (migration 010): one FTS5 entry per stored body, written when
// the body is first stored for a mailbox message, removed with the body by a trigger. SEARCH asks
// it for candidate messages, then checks each candidate exactly (src/imap/commands/search.ts):
// the index never decides a match on its own, it only rules messages out.
import { decodeHeaderValue, findHeaderEnd, parseHeaderBlock, searchableText, type MimePart } from '../mime';
import { addressText } from '../mime/address-text';
import { cachedStatement, type Db } from './database';

/** Header fields holding addresses: indexed in their parsed form too (see addressText). */
const ADDRESS_FIELDS = new Set(['from', 'to', 'cc', 'bcc', 'sender', 'reply-to']);

/** The three columns of body_search_text for one message. */
export function searchDocument(raw: Buffer, structure: MimePart): { subject: string; headers: string; body: string } {
  const fields = parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0).bodyStart);
  const subjects: string[] = [];
  const headers: string[] = [];
  for (const field of fields) {
    const value = decodeHeaderValue(field.value);
    if (field.key === 'subject') subjects.push(value);
    headers.push(`${field.name}: ${value}`);
    if (ADDRESS_FIELDS.has(field.key)) headers.push(addressText(field.value));
  }
  return { subject: subjects.join('\n'), headers: headers.join('\n'), body: searchableText(raw, structure) };
}

/** Indexes a body unless it already is (shared bodies are indexed once). Inside the caller's transaction. */
export function indexBody(db: Db, hash: string, raw: Buffer, structure: MimePart): void {
  if (cachedStatement(db, 'SELECT 1 FROM body_search WHERE hash = ?').get(hash)) return;
  const { id } = cachedStatement(db, 'INSERT INTO body_search (hash) VALUES (?) RETURNING id').get(hash) as { id: number };
  const doc = searchDocument(raw, structure);
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
 * Indexes up to `batch` bodies of mailbox messages stored before migration 010; returns how many
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
