// Messages as an IMAP session works on them: the per-mailbox index, FETCH rows, STORE, EXPUNGE,
// COPY/MOVE, APPEND, \Recent, and CONDSTORE resynchronisation. SQL and transactions only: the
// session resolves names (mailbox-view.ts) and checks access before calling with mailbox ids.
//
// MODSEQ (RFC 7162): every change takes a new value from the mailbox's HIGHESTMODSEQ. A STORE or
// an EXPUNGE takes ONE new value for all the messages it changes (section 2: each STORE command
// gets a different mod-sequence; messages changed together share it), as the purge does per batch.
// A STORE that changes nothing on a message leaves its MODSEQ alone (section 3.2).
//
// Copy and move between boxes: allowed between any two mailboxes the person can resolve, their
// own and those of the ORG boxes they are linked to, in every direction. R6 says members work in an
// ORG box as in their own; a member who may COPY and EXPUNGE there can already "move" messages, so
// refusing MOVE (or COPY towards the ORG) would protect nothing and would break Outlook's drag and
// drop between the two trees (README "Client quirks"). Retention (R10) follows the message:
// arrived_at is kept.
import { analyzeMessage, type MimePart } from '../mime';
import { cachedStatement, commitUnflushed, immediateTransaction, type Db } from './database';
import { MailboxError } from './mailbox-view';
import { appendMessage, bodyHash, FLAG_BITS, releaseBody, retainBody } from './messages';

// ---------------------------------------------------------------------------------------------
// Flags

/** All system flag bits (RFC 3501 section 2.3.2); \Recent is never stored (section 2.3.2). */
export const SYSTEM_FLAG_MASK = Object.values(FLAG_BITS).reduce((mask, bit) => mask | bit, 0);
const SEEN = FLAG_BITS['\\Seen'];
const DELETED = FLAG_BITS['\\Deleted'];

/** At most this many keywords on one message (the keywords column stays small). */
export const MAX_KEYWORDS_PER_MESSAGE = 64;
export const MAX_KEYWORD_LENGTH = 100;

const SYSTEM_FLAGS_BY_LOWER = new Map(
  Object.entries(FLAG_BITS).map(([name, bit]) => [name.toLowerCase(), bit] as const),
);

/** flag-keyword = atom (RFC 3501 section 9): printable ASCII without atom-specials. */
const KEYWORD = /^[\x21\x23\x24\x26\x27\x2b-\x5b\x5e-\x7a\x7c-\x7e]+$/;

export interface FlagSet {
  bits: number;
  keywords: string[];
}

/**
 * Splits flags as given by a client into system-flag bits and keywords. System flags and keywords
 * compare case-insensitively; \Recent is ignored (the server sets it, section 2.3.2); an unknown
 * "\" flag or a keyword that is not an atom is refused (the store must never hold a space in a
 * keyword: the column is space-separated).
 */
export function parseFlags(flags: readonly string[]): FlagSet {
  let bits = 0;
  const keywords = new KeywordSet();
  for (const flag of flags) {
    if (flag.startsWith('\\')) {
      const lower = flag.toLowerCase();
      if (lower === '\\recent') continue;
      const bit = SYSTEM_FLAGS_BY_LOWER.get(lower);
      if (bit === undefined) throw new MailboxError('CANNOT', `unknown system flag ${flag}`);
      bits |= bit;
    } else {
      if (flag.length > MAX_KEYWORD_LENGTH || !KEYWORD.test(flag)) {
        throw new MailboxError('CANNOT', `invalid keyword ${JSON.stringify(flag.slice(0, 40))}`);
      }
      keywords.add(flag);
    }
  }
  return { bits, keywords: keywords.list() };
}

/** The flag list of a message for FETCH FLAGS (without \Recent, which the session adds). */
export function flagNames(bits: number, keywords: readonly string[]): string[] {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(FLAG_BITS)) if (bits & bit) names.push(name);
  return names.concat(keywords);
}

/** Keywords compared case-insensitively, the first spelling kept. */
class KeywordSet {
  private readonly byLower = new Map<string, string>();

  constructor(initial: readonly string[] = []) {
    for (const keyword of initial) this.add(keyword);
  }

  add(keyword: string): void {
    const lower = keyword.toLowerCase();
    if (!this.byLower.has(lower)) this.byLower.set(lower, keyword);
  }

  delete(keyword: string): void {
    this.byLower.delete(keyword.toLowerCase());
  }

  list(): string[] {
    return [...this.byLower.values()];
  }
}

const NO_KEYWORDS: readonly string[] = Object.freeze([]);

function splitKeywords(column: string): readonly string[] {
  return column === '' ? NO_KEYWORDS : column.split(' ');
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** UIDs as a JSON array for `uid IN (SELECT value FROM json_each(?))`: any count, one statement. */
function uidList(uids: readonly number[]): string {
  return JSON.stringify(uids.filter((uid) => Number.isInteger(uid) && uid > 0 && uid <= 0xffffffff));
}

interface MailboxHead {
  id: number;
  account_id: number;
  name: string;
  special_use: string | null;
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
  recent_floor: number;
}

function mailboxHead(db: Db, mailboxId: number): MailboxHead {
  const row = cachedStatement(
    db,
    `SELECT id, account_id, name, special_use, uidvalidity, uidnext, highestmodseq, recent_floor
     FROM mailboxes WHERE id = ?`,
  ).get(mailboxId) as MailboxHead | undefined;
  if (!row) throw new MailboxError('NONEXISTENT', 'the mailbox no longer exists');
  return row;
}

/** The next MODSEQ of a mailbox (RFC 7162 section 3.1: HIGHESTMODSEQ grows with every change). */
function takeModseq(db: Db, mailboxId: number): number {
  const row = cachedStatement(
    db,
    'UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq',
  ).get(mailboxId) as { highestmodseq: number } | undefined;
  if (!row) throw new MailboxError('NONEXISTENT', 'the mailbox no longer exists');
  return row.highestmodseq;
}

interface RemovableRow {
  id: number;
  uid: number;
  body_hash: string;
}

/**
 * Removes messages from one mailbox the way the purge does (purge.ts): one new MODSEQ for them
 * all, an `expunged` row per UID so that other sessions learn of it (RFC 7162 section 3.2.10),
 * and one body reference released per message. Returns the UIDs removed, ascending.
 */
function removeMessages(db: Db, mailboxId: number, rows: readonly RemovableRow[]): number[] {
  if (rows.length === 0) return [];
  const modseq = takeModseq(db, mailboxId);
  const remove = cachedStatement(db, 'DELETE FROM messages WHERE id = ?');
  const record = cachedStatement(db, 'INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)');
  for (const row of rows) {
    remove.run(row.id);
    record.run(mailboxId, row.uid, modseq);
    releaseBody(db, row.body_hash);
  }
  return rows.map((row) => row.uid).sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface MessageIndex {
  /** Ascending; position i is sequence number i + 1. */
  uids: Uint32Array;
  /** System flag bits (FLAG_BITS). */
  flags: Uint8Array;
  keywords: Array<readonly string[]>;
  modseqs: Float64Array;
}

/**
 * The whole mailbox as a session keeps it (SELECT, sequence numbers, FETCH FLAGS). One SELECT over
 * the covering index messages_flags_by_uid (migration 002) alone, aggregated by SQLite into one
 * string per column: materialising 100 000 row objects would cost more than the query itself. Keywords are
 * rare, so only the messages that have some are listed, as "uid kw1 kw2" lines.
 */
export function messageIndex(db: Db, mailboxId: number): MessageIndex {
  const row = cachedStatement(
    db,
    `SELECT COUNT(*) AS n, group_concat(uid, ',') AS uids, group_concat(flags, ',') AS flags,
            group_concat(modseq, ',') AS modseqs,
            group_concat(uid || ' ' || keywords, char(10)) FILTER (WHERE keywords <> '') AS keywords
     FROM messages INDEXED BY messages_flags_by_uid WHERE mailbox_id = ?`,
  ).get(mailboxId) as { n: number; uids: string | null; flags: string | null; modseqs: string | null; keywords: string | null };
  const count = row.n;
  const index: MessageIndex = {
    uids: new Uint32Array(count),
    flags: new Uint8Array(count),
    keywords: new Array<readonly string[]>(count).fill(NO_KEYWORDS),
    modseqs: new Float64Array(count),
  };
  if (count === 0) return index;
  fillNumbers(index.uids, row.uids!);
  fillNumbers(index.flags, row.flags!);
  fillNumbers(index.modseqs, row.modseqs!);
  // The index scan feeds the aggregates in UID order (an ORDER BY inside group_concat would cost
  // a temporary B-tree); should SQLite ever do otherwise, sort here rather than hand out a wrong
  // sequence-number mapping.
  let ascending = true;
  for (let i = 1; i < count && ascending; i++) ascending = index.uids[i] > index.uids[i - 1];
  if (!ascending) sortIndex(index);
  if (row.keywords !== null) {
    for (const line of row.keywords.split('\n')) {
      const [uid, ...keywords] = line.split(' ');
      const at = positionOf(index.uids, Number(uid));
      if (at >= 0) index.keywords[at] = keywords;
    }
  }
  return index;
}

/** Parses "1,2,3" into a typed array of the same length (the caller counted the items). */
function fillNumbers(target: Uint32Array | Uint8Array | Float64Array, list: string): void {
  let at = 0;
  let value = 0;
  for (let i = 0; i < list.length; i++) {
    const code = list.charCodeAt(i);
    if (code === 44 /* , */) {
      target[at++] = value;
      value = 0;
    } else {
      value = value * 10 + (code - 48);
    }
  }
  target[at] = value;
}

/** Binary search of a UID in the ascending index: its position, or -1. */
export function positionOf(uids: Uint32Array, uid: number): number {
  let low = 0;
  let high = uids.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = uids[middle];
    if (value === uid) return middle;
    if (value < uid) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

function sortIndex(index: MessageIndex): void {
  const order = Array.from(index.uids.keys()).sort((a, b) => index.uids[a] - index.uids[b]);
  const uids = Uint32Array.from(order, (i) => index.uids[i]);
  const flags = Uint8Array.from(order, (i) => index.flags[i]);
  const modseqs = Float64Array.from(order, (i) => index.modseqs[i]);
  index.uids.set(uids);
  index.flags.set(flags);
  index.modseqs.set(modseqs);
}

export interface FetchedMessage {
  uid: number;
  modseq: number;
  flags: number;
  keywords: readonly string[];
  /** Milliseconds since the epoch (INTERNALDATE). */
  internalDate: number;
  arrivedAt: number;
  /** RFC822.SIZE. */
  size: number;
  /** For readBody (messages.ts). */
  bodyHash: string;
  messageId: string | null;
  /** Cached ENVELOPE (src/mime Envelope) as stored, JSON. */
  envelopeJson: string;
  /** Cached MIME structure with part offsets (src/mime MimePart) as stored, JSON. */
  structureJson: string;
}

interface MessageRow {
  uid: number;
  modseq: number;
  flags: number;
  keywords: string;
  internal_date: number;
  arrived_at: number;
  size: number;
  body_hash: string;
  message_id: string | null;
  envelope: string;
  structure: string;
}

/** The FETCH data of the given UIDs that exist in the mailbox, ascending by UID. */
export function fetchMessages(db: Db, mailboxId: number, uids: readonly number[]): FetchedMessage[] {
  const rows = cachedStatement(
    db,
    `SELECT uid, modseq, flags, keywords, internal_date, arrived_at, size, body_hash, message_id, envelope, structure
     FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
  ).all(mailboxId, uidList(uids)) as MessageRow[];
  return rows.map((row) => ({
    uid: row.uid,
    modseq: row.modseq,
    flags: row.flags,
    keywords: splitKeywords(row.keywords),
    internalDate: row.internal_date,
    arrivedAt: row.arrived_at,
    size: row.size,
    bodyHash: row.body_hash,
    messageId: row.message_id,
    envelopeJson: row.envelope,
    structureJson: row.structure,
  }));
}

/** What every FETCH of stored data needs of a message, without its ENVELOPE and structure JSON. */
export interface MessageKey {
  uid: number;
  /** Milliseconds since the epoch (INTERNALDATE). */
  internalDate: number;
  /** RFC822.SIZE. */
  size: number;
  /** For readBody (messages.ts). */
  bodyHash: string;
}

/**
 * UID, INTERNALDATE, RFC822.SIZE and body hash of the messages with these UIDs, in UID order:
 * read from the index messages_sort_keys alone (it covers them), never from the rows. UIDs that
 * lie close together (a FETCH 1:50) are read as one UID range, without a JSON list to build and
 * walk; the messages of the range not asked for are left out.
 */
export function fetchMessageKeys(db: Db, mailboxId: number, uids: readonly number[]): MessageKey[] {
  let low = Infinity;
  let high = -Infinity;
  for (const uid of uids) {
    if (uid < low) low = uid;
    if (uid > high) high = uid;
  }
  if (uids.length === 0) return [];
  const span = high - low + 1;
  let rows: Array<[number, number, number, string]>;
  if (Number.isInteger(low) && Number.isInteger(high) && span <= 2 * uids.length + 16) {
    rows = cachedStatement(
      db,
      `SELECT uid, internal_date, size, body_hash FROM messages
       WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`,
    )
      .raw(true)
      .all(mailboxId, low, high) as Array<[number, number, number, string]>;
    if (span !== uids.length) {
      const asked = new Set(uids);
      rows = rows.filter((row) => asked.has(row[0]));
    }
  } else {
    rows = cachedStatement(
      db,
      `SELECT uid, internal_date, size, body_hash FROM messages
       WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
    )
      .raw(true)
      .all(mailboxId, uidList(uids)) as Array<[number, number, number, string]>;
  }
  const keys: MessageKey[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    keys[i] = { uid: row[0], internalDate: row[1], size: row[2], bodyHash: row[3] };
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------
// STORE (RFC 3501 section 6.4.6, RFC 7162 section 3.2)

export interface FlagState {
  uid: number;
  flags: number;
  keywords: readonly string[];
  modseq: number;
}

export interface StoreResult {
  /** Messages whose flags changed, with their new state and MODSEQ. */
  changed: FlagState[];
  /** Messages the command matched but left as they were (still reported by a non-silent STORE). */
  unchanged: FlagState[];
  /** UNCHANGEDSINCE failures (RFC 7162 section 3.2: the MODIFIED response code). */
  failedUnchangedSince: number[];
  /** Messages that just got \Seen (opening status, R9). */
  newlySeen: Array<{ uid: number; messageId: string | null }>;
}

export type StoreMode = 'set' | 'add' | 'remove';

interface StoreRow {
  id: number;
  uid: number;
  flags: number;
  keywords: string;
  modseq: number;
  message_id: string | null;
}

export function storeFlags(
  db: Db,
  mailboxId: number,
  uids: readonly number[],
  mode: StoreMode,
  flags: readonly string[],
  unchangedSince?: number,
): StoreResult {
  const wanted = parseFlags(flags);
  return immediateTransaction(db, () => {
    const rows = cachedStatement(
      db,
      `SELECT id, uid, flags, keywords, modseq, message_id FROM messages
       WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
    ).all(mailboxId, uidList(uids)) as StoreRow[];
    const result: StoreResult = { changed: [], unchanged: [], failedUnchangedSince: [], newlySeen: [] };
    const updates: Array<{ row: StoreRow; flags: number; keywords: string[] }> = [];
    for (const row of rows) {
      if (unchangedSince !== undefined && row.modseq > unchangedSince) {
        result.failedUnchangedSince.push(row.uid);
        continue;
      }
      const current = splitKeywords(row.keywords);
      let newFlags: number;
      let newKeywords: string[];
      if (mode === 'set') {
        newFlags = wanted.bits;
        newKeywords = wanted.keywords;
      } else if (mode === 'add') {
        newFlags = row.flags | wanted.bits;
        const set = new KeywordSet(current);
        for (const keyword of wanted.keywords) set.add(keyword);
        newKeywords = set.list();
      } else {
        newFlags = row.flags & ~wanted.bits;
        const set = new KeywordSet(current);
        for (const keyword of wanted.keywords) set.delete(keyword);
        newKeywords = set.list();
      }
      if (newKeywords.length > MAX_KEYWORDS_PER_MESSAGE) {
        throw new MailboxError('LIMIT', `at most ${MAX_KEYWORDS_PER_MESSAGE} keywords per message`);
      }
      if (newFlags === row.flags && newKeywords.join(' ') === row.keywords) {
        result.unchanged.push({ uid: row.uid, flags: row.flags, keywords: current, modseq: row.modseq });
        continue;
      }
      updates.push({ row, flags: newFlags, keywords: newKeywords });
    }
    if (updates.length > 0) {
      const modseq = takeModseq(db, mailboxId);
      const update = cachedStatement(db, 'UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE id = ?');
      for (const { row, flags: bits, keywords } of updates) {
        update.run(bits, keywords.join(' '), modseq, row.id);
        result.changed.push({ uid: row.uid, flags: bits, keywords, modseq });
        if (bits & SEEN && !(row.flags & SEEN)) result.newlySeen.push({ uid: row.uid, messageId: row.message_id });
      }
    }
    return result;
  });
}

// ---------------------------------------------------------------------------------------------
// EXPUNGE (RFC 3501 section 6.4.3, UID EXPUNGE RFC 4315 section 2.1)

/**
 * Removes the messages flagged \Deleted: all of them, or (UID EXPUNGE) only those among `uids`.
 * Returns the UIDs removed, ascending; records them in `expunged` and releases their bodies.
 */
export function expungeMessages(db: Db, mailboxId: number, uids?: readonly number[]): number[] {
  // messages_deleted (migration 018) holds only the flagged messages; its condition is spelled
  // the same way here, which is what lets SQLite use a partial index
  return immediateTransaction(db, () => {
    const rows =
      uids === undefined
        ? (cachedStatement(
            db,
            `SELECT id, uid, body_hash FROM messages INDEXED BY messages_deleted WHERE mailbox_id = ? AND flags & ${DELETED} <> 0 ORDER BY uid`,
          ).all(mailboxId) as RemovableRow[])
        : (cachedStatement(
            db,
            `SELECT id, uid, body_hash FROM messages INDEXED BY messages_deleted
             WHERE mailbox_id = ? AND flags & ${DELETED} <> 0 AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
          ).all(mailboxId, uidList(uids)) as RemovableRow[]);
    return removeMessages(db, mailboxId, rows);
  });
}

// ---------------------------------------------------------------------------------------------
// COPY / MOVE (RFC 3501 section 6.4.7, RFC 4315 COPYUID, RFC 6851)

export interface CopyResult {
  /** UIDVALIDITY of the destination, for COPYUID (RFC 4315 section 3). */
  uidValidity: number;
  /** Source UID → new destination UID, ascending by source UID. */
  pairs: Array<{ srcUid: number; dstUid: number }>;
}

export interface MoveResult extends CopyResult {
  /** The source UIDs expunged (the same as pairs' srcUid). */
  expunged: number[];
}

interface CopiedRow extends RemovableRow {
  flags: number;
  keywords: string;
  internal_date: number;
  arrived_at: number;
  size: number;
  delivery_id: number | null;
  message_id: string | null;
  trash_origin: string | null;
  envelope: string;
  structure: string;
}

const TRASH = '\\Trash';

/**
 * Where a copied message says it came from (R11): copied into the owner's Trash from one of the
 * owner's other mailboxes, that mailbox's name; copied within Trash, unchanged; anywhere else
 * (including out of Trash, and into a Trash of another box, whose names mean nothing there), none.
 */
function trashOriginOfCopy(source: MailboxHead, destination: MailboxHead, current: string | null): string | null {
  if (destination.special_use !== TRASH) return null;
  if (source.special_use === TRASH) return source.account_id === destination.account_id ? current : null;
  return source.account_id === destination.account_id ? source.name : null;
}

function copyRows(db: Db, source: MailboxHead, destination: MailboxHead, rows: readonly CopiedRow[]): CopyResult {
  const addReference = cachedStatement(db, 'UPDATE bodies SET refcount = refcount + 1 WHERE hash = ?');
  const pairs: CopyResult['pairs'] = [];
  for (const row of rows) {
    addReference.run(row.body_hash);
    const appended = appendMessage(db, {
      mailboxId: destination.id,
      bodyHash: row.body_hash,
      size: row.size,
      internalDate: row.internal_date,
      arrivedAt: row.arrived_at, // R10: the retention clock runs from the first arrival
      flags: row.flags, // flags are kept; the new UID is \Recent for the next session (3501 6.4.7)
      keywords: [...splitKeywords(row.keywords)],
      deliveryId: row.delivery_id,
      messageId: row.message_id,
      trashOrigin: trashOriginOfCopy(source, destination, row.trash_origin),
      envelope: row.envelope,
      structure: row.structure,
    });
    pairs.push({ srcUid: row.uid, dstUid: appended.uid });
  }
  return { uidValidity: destination.uidvalidity, pairs };
}

function selectForCopy(db: Db, mailboxId: number, uids: readonly number[] | 'all'): CopiedRow[] {
  const columns = `id, uid, body_hash, flags, keywords, internal_date, arrived_at, size, delivery_id, message_id,
                   trash_origin, envelope, structure`;
  if (uids === 'all') {
    return cachedStatement(db, `SELECT ${columns} FROM messages WHERE mailbox_id = ? ORDER BY uid`).all(
      mailboxId,
    ) as CopiedRow[];
  }
  return cachedStatement(
    db,
    `SELECT ${columns} FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
  ).all(mailboxId, uidList(uids)) as CopiedRow[];
}

/**
 * COPY: each message gets a new UID in the destination (in source UID order), one more reference
 * to its body, its flags, keywords, INTERNALDATE and arrival time. UIDs that do not exist in the
 * source are skipped (the session has checked the set against its own view).
 */
export function copyMessages(
  db: Db,
  sourceMailboxId: number,
  uids: readonly number[],
  destinationMailboxId: number,
): CopyResult {
  return immediateTransaction(db, () => {
    const source = mailboxHead(db, sourceMailboxId);
    const destination = mailboxHead(db, destinationMailboxId);
    return copyRows(db, source, destination, selectForCopy(db, sourceMailboxId, uids));
  });
}

/** MOVE: the copy and the expunge of the source in one transaction (RFC 6851 section 3.3). */
export function moveMessages(
  db: Db,
  sourceMailboxId: number,
  uids: readonly number[] | 'all',
  destinationMailboxId: number,
): MoveResult {
  return immediateTransaction(db, () => {
    const source = mailboxHead(db, sourceMailboxId);
    const destination = mailboxHead(db, destinationMailboxId);
    const rows = selectForCopy(db, sourceMailboxId, uids);
    const copied = copyRows(db, source, destination, rows);
    return { ...copied, expunged: removeMessages(db, sourceMailboxId, rows) };
  });
}

// ---------------------------------------------------------------------------------------------
// APPEND (RFC 3501 section 6.3.11, APPENDUID RFC 4315 section 3)

export interface AppendResult {
  uid: number;
  uidValidity: number;
  modseq: number;
}

export interface AppendInput {
  raw: Buffer;
  flags?: readonly string[];
  internalDate?: number;
}

/**
 * A message to append, parsed: its flags, and analyzeMessage's envelope, structure and
 * Message-ID, its body's SHA-256. Prepared before the write transaction (prepareAppend): the
 * parsing and the hashing are most of an APPEND's CPU, and every other writer of the store (the
 * other IMAP worker, the MTA) would wait for the lock meanwhile.
 */
export interface PreparedAppend {
  raw: Buffer;
  bits: number;
  keywords: string[];
  internalDate?: number;
  hash: string;
  messageId: string | null;
  envelopeJson: string;
  structure: MimePart;
  structureJson: string;
}

/** Parses a message to append; throws MailboxError LIMIT for too many keywords. */
export function prepareAppend(message: AppendInput): PreparedAppend {
  const { bits, keywords } = parseFlags(message.flags ?? []);
  if (keywords.length > MAX_KEYWORDS_PER_MESSAGE) {
    throw new MailboxError('LIMIT', `at most ${MAX_KEYWORDS_PER_MESSAGE} keywords per message`);
  }
  const analysis = analyzeMessage(message.raw);
  return {
    raw: message.raw,
    bits,
    keywords,
    internalDate: message.internalDate,
    hash: bodyHash(message.raw),
    messageId: analysis.messageId,
    envelopeJson: JSON.stringify(analysis.envelope),
    structure: analysis.structure,
    structureJson: JSON.stringify(analysis.structure),
  };
}

/**
 * MULTIAPPEND (RFC 3502 section 6.3.11): several prepared messages into one mailbox in one
 * transaction, all of them or none. Returns their UIDs in order (consecutive: nothing else
 * writes meanwhile).
 */
export function appendManyToMailbox(db: Db, mailboxId: number, messages: readonly PreparedAppend[], now = Date.now()): AppendResult[] {
  return immediateTransaction(db, () => messages.map((message) => appendPrepared(db, mailboxId, message, now)));
}

/**
 * Stores a message a client uploads (a sent copy, a draft): parsed once by analyzeMessage for
 * its envelope, structure and Message-ID, its body stored once by SHA-256. The message arrives
 * now (R10 retention runs from `now`); INTERNALDATE is the client's date if given, else now.
 */
export function appendToMailbox(
  db: Db,
  mailboxId: number,
  raw: Buffer,
  flags: readonly string[] = [],
  internalDate?: number,
  now = Date.now(),
): AppendResult {
  return appendPrepared(db, mailboxId, prepareAppend({ raw, flags, internalDate }), now);
}

function appendPrepared(db: Db, mailboxId: number, message: PreparedAppend, now: number): AppendResult {
  return immediateTransaction(db, () => {
    const mailbox = mailboxHead(db, mailboxId);
    retainBody(db, message.hash, message.raw, 1, now, message.structure);
    const appended = appendMessage(db, {
      mailboxId,
      bodyHash: message.hash,
      size: message.raw.length,
      internalDate: message.internalDate ?? now,
      arrivedAt: now,
      flags: message.bits,
      keywords: message.keywords,
      messageId: message.messageId,
      envelope: message.envelopeJson,
      structure: message.structureJson,
    });
    return { uid: appended.uid, uidValidity: mailbox.uidvalidity, modseq: appended.modseq };
  });
}

// ---------------------------------------------------------------------------------------------
// Trash (R11)

export interface RestoredMessage {
  trashUid: number;
  mailboxId: number;
  /** Name of the mailbox inside the box (INBOX when the origin no longer exists). */
  mailboxName: string;
  uid: number;
}

/**
 * Moves messages of the box's Trash back to the mailbox each came from (messages.trash_origin),
 * or to INBOX when that mailbox no longer exists or the origin is unknown. One transaction.
 */
export function restoreFromTrash(db: Db, accountId: number, uids: readonly number[]): RestoredMessage[] {
  return immediateTransaction(db, () => {
    const trash = cachedStatement(db, `SELECT id FROM mailboxes WHERE account_id = ? AND special_use = '${TRASH}'`).get(
      accountId,
    ) as { id: number } | undefined;
    if (!trash) throw new MailboxError('NONEXISTENT', 'this box has no Trash');
    const rows = cachedStatement(
      db,
      `SELECT uid, trash_origin FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
    ).all(trash.id, uidList(uids)) as Array<{ uid: number; trash_origin: string | null }>;
    const findTarget = cachedStatement(
      db,
      `SELECT id, name FROM mailboxes WHERE account_id = ? AND name = ? AND (special_use IS NULL OR special_use <> '${TRASH}')`,
    );
    const byTarget = new Map<number, { name: string; uids: number[] }>();
    for (const row of rows) {
      const target = ((row.trash_origin !== null && findTarget.get(accountId, row.trash_origin)) ||
        findTarget.get(accountId, 'INBOX')) as { id: number; name: string } | undefined;
      if (!target) throw new MailboxError('NONEXISTENT', 'this box has no INBOX');
      let group = byTarget.get(target.id);
      if (!group) byTarget.set(target.id, (group = { name: target.name, uids: [] }));
      group.uids.push(row.uid);
    }
    const restored: RestoredMessage[] = [];
    for (const [mailboxId, group] of byTarget) {
      const moved = moveMessages(db, trash.id, group.uids, mailboxId);
      for (const pair of moved.pairs) {
        restored.push({ trashUid: pair.srcUid, mailboxId, mailboxName: group.name, uid: pair.dstUid });
      }
    }
    return restored.sort((a, b) => a.trashUid - b.trashUid);
  });
}

// ---------------------------------------------------------------------------------------------
// \Recent (RFC 3501 section 2.3.2)

/**
 * The UIDs this session is the first to see: those from the mailbox's recent_floor up, after
 * which the floor moves to UIDNEXT so that no other session sees them as \Recent. A session calls
 * it at SELECT (not EXAMINE) and again whenever it learns of new messages while selected.
 */
/**
 * The UIDs that still carry \Recent (not yet claimed by a read-write session), without claiming
 * them: what EXAMINE shows (RFC 3501 section 6.3.2 leaves \Recent untouched).
 */
export function peekRecent(db: Db, mailboxId: number, below = Infinity): number[] {
  const mailbox = mailboxHead(db, mailboxId);
  const end = Math.min(mailbox.uidnext, below);
  if (mailbox.recent_floor >= end) return [];
  return (
    cachedStatement(db, 'SELECT uid FROM messages WHERE mailbox_id = ? AND uid >= ? AND uid < ? ORDER BY uid')
      .raw(true)
      .all(mailboxId, mailbox.recent_floor, end) as Array<[number]>
  ).map((row) => row[0]);
}

/**
 * Claims \Recent for one session: the UIDs from the mailbox's floor up to `below` (exclusive;
 * the first UID the session's view does not hold yet, since another process may have added
 * messages meanwhile), and raises the floor there.
 * `waitMs`: how long to wait for a write lock another process holds; SELECT waits a little (it is
 * the moment RFC 3501 section 2.3.2 makes this session the first to be told), the claims that
 * follow new mail do not.
 */
export function claimRecent(db: Db, mailboxId: number, below = Infinity, waitMs = 0): number[] {
  // Every session runs this after every command once new mail arrived: a flush of its own each
  // time would stall the event loop for bookkeeping nobody was promised. When another process
  // holds the write lock past waitMs, nothing is claimed now; a later claim takes these UIDs.
  return commitUnflushed(db, () => {
    const mailbox = mailboxHead(db, mailboxId);
    const end = Math.min(mailbox.uidnext, below);
    if (mailbox.recent_floor >= end) return [];
    cachedStatement(db, 'UPDATE mailboxes SET recent_floor = ? WHERE id = ?').run(end, mailboxId);
    return (
      cachedStatement(db, 'SELECT uid FROM messages WHERE mailbox_id = ? AND uid >= ? AND uid < ? ORDER BY uid')
        .raw(true)
        .all(mailboxId, mailbox.recent_floor, end) as Array<[number]>
    ).map((row) => row[0]);
  }, [], waitMs);
}

// ---------------------------------------------------------------------------------------------
// Resynchronisation (RFC 7162 sections 3.1.4, 3.2.10; what other sessions and the purge did)

/** What changed in a mailbox above a MODSEQ: the messages changed or added, and the UIDs expunged. */
export interface ChangesSince {
  /** Messages whose MODSEQ is above it (flag changes, and messages added since), ascending by UID. */
  changed: FlagState[];
  /** UIDs expunged with a MODSEQ above it, ascending. */
  expunged: number[];
}

/**
 * Both halves of a session's resynchronisation in one statement (one read transaction: under
 * load, each one that starts after another process's commit reloads the pages it reads).
 */
export function changesSince(db: Db, mailboxId: number, modseq: number): ChangesSince {
  const rows = cachedStatement(
    db,
    // the modseq index: left to itself the planner walks the whole mailbox in messages_flags_by_uid
    // (covering, already in UID order), 1 ms and more per command in a mailbox of 20 000 messages
    `SELECT 0 AS gone, uid, flags, keywords, modseq FROM messages INDEXED BY messages_modseq WHERE mailbox_id = @mailbox AND modseq > @modseq
     UNION ALL
     SELECT 1, uid, 0, '', modseq FROM expunged WHERE mailbox_id = @mailbox AND modseq > @modseq
     ORDER BY 2`,
  )
    .raw(true)
    .all({ mailbox: mailboxId, modseq }) as Array<[number, number, number, string, number]>;
  const changes: ChangesSince = { changed: [], expunged: [] };
  for (const [gone, uid, flags, keywords, rowModseq] of rows) {
    if (gone) changes.expunged.push(uid);
    else changes.changed.push({ uid, flags, keywords: splitKeywords(keywords), modseq: rowModseq });
  }
  return changes;
}

/** UIDs expunged with a MODSEQ above `modseq`, ascending. */
export function expungedSince(db: Db, mailboxId: number, modseq: number): number[] {
  return (
    cachedStatement(db, 'SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid')
      .raw(true)
      .all(mailboxId, modseq) as Array<[number]>
  ).map((row) => row[0]);
}
