// What FETCH renders again and again for the same messages (clients and imaptest's stress mix
// fetch ENVELOPE, BODY, BODYSTRUCTURE and header fields of the same messages over and over),
// kept per process in bounded caches so a repeated FETCH neither reads nor parses the stored
// JSON, nor re-encodes it (RFC 3501 §7.4.2).
//
// Never stale, by construction: everything is kept by the message's IMAP identity, store,
// mailbox and UID, which RFC 3501 §2.3.1.1 binds to one message for good while UIDVALIDITY holds
// (this store never gives a mailbox id twice, and gives a recreated mailbox, or one renamed over a
// retired name, a new UIDVALIDITY); each entry also records the UIDVALIDITY it was made for and is
// used only when it matches. A message's INTERNALDATE, size, body hash, ENVELOPE, structure and
// octets are written once, when it is stored, and never changed; header octets are named by the
// body hash (the body store is content-addressed).
// The cache holds at most a budget of characters and octets; past it the oldest entries go.
//
// Because an entry stays true for good, it also answers for a message another session expunged
// that this client has not been told of yet (RFC 2180 section 4.1.1: the server may still return
// its data): see keptRendering.
import type { Envelope, MimePart } from '../mime';
import type { Db } from '../store/database';
import type { MessageKey } from '../store/imap-messages';
import type { BodySectionItem } from './protocol/fetch-items';
import { bodyStructure, envelope } from './protocol/encode';

/** A stored MIME structure, parsed, with its BODY and BODYSTRUCTURE texts once rendered. */
export interface StructureEntry {
  readonly part: MimePart;
  body: string | null;
  bodyStructure: string | null;
}

/** What is kept of one message: each member filled the first time a FETCH needs it. */
export interface Rendered {
  readonly uidValidity: number;
  /** UID, INTERNALDATE, RFC822.SIZE and body hash of the message, as stored. */
  readonly key: MessageKey;
  /** ENVELOPE text (RFC 3501 §7.4.2). */
  envelope: string | null;
  structure: StructureEntry | null;
  /** The header block, octets [0, structure.bodyStart) of the body. */
  header: Buffer | null;
  /** Answers of top-level header sections (HEADER, HEADER.FIELDS[.NOT]), by sectionSpec(). */
  sections: Map<string, Buffer> | null;
  /** Characters and octets counted against the budget. */
  cost: number;
}

/** What an entry costs before anything is kept in it (the maps, the record, the object itself). */
export const ENTRY_OVERHEAD = 256;

/** Per-mailbox maps of entries by UID, forgetting the oldest entries past a budget. */
export class RenderingCache {
  private readonly byMailbox = new Map<number, Map<number, Rendered>>();
  /** Entries in the order they were made, for eviction; stale records are skipped. */
  private order: Array<{ mailboxId: number; uid: number; entry: Rendered }> = [];
  private head = 0;
  private used = 0;

  constructor(private readonly budget: number) {}

  /** The entry of a message, made empty when none is kept or the kept one is for another UIDVALIDITY or body. */
  entryFor(mailboxId: number, uidValidity: number, key: MessageKey): Rendered {
    const uid = key.uid;
    let uids = this.byMailbox.get(mailboxId);
    const kept = uids?.get(uid);
    if (kept && kept.uidValidity === uidValidity && kept.key.bodyHash === key.bodyHash) return kept;
    if (kept) this.used -= kept.cost;
    const entry: Rendered = { uidValidity, key, envelope: null, structure: null, header: null, sections: null, cost: 0 };
    if (!uids) {
      uids = new Map();
      this.byMailbox.set(mailboxId, uids);
    }
    uids.set(uid, entry);
    this.order.push({ mailboxId, uid, entry });
    this.charge(entry, ENTRY_OVERHEAD);
    return entry;
  }

  /** Counts `size` more for `entry`, then forgets the oldest entries while over budget. */
  charge(entry: Rendered, size: number): void {
    entry.cost += size;
    this.used += size;
    while (this.used > this.budget && this.head < this.order.length) {
      const { mailboxId, uid, entry: oldest } = this.order[this.head++];
      const uids = this.byMailbox.get(mailboxId);
      if (uids?.get(uid) !== oldest) continue; // replaced meanwhile
      uids.delete(uid);
      if (uids.size === 0) this.byMailbox.delete(mailboxId);
      this.used -= oldest.cost;
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  /** The entry kept for a message under this UIDVALIDITY, whatever its body; undefined if none. */
  kept(mailboxId: number, uidValidity: number, uid: number): Rendered | undefined {
    const entry = this.byMailbox.get(mailboxId)?.get(uid);
    return entry?.uidValidity === uidValidity ? entry : undefined;
  }

  /** Messages kept. */
  get size(): number {
    let count = 0;
    for (const uids of this.byMailbox.values()) count += uids.size;
    return count;
  }

  clear(): void {
    this.byMailbox.clear();
    this.order = [];
    this.head = 0;
    this.used = 0;
  }
}

/** About 16 M characters and octets of renderings and headers (a few thousand messages per process). */
const cache = new RenderingCache(16 << 20);

/**
 * A mailbox as the cache names it: its id within one store. The identity of a message is unique
 * within a store (ids and UIDVALIDITY values are never given twice there), not across stores a
 * process may open one after another (the tests do): each store gets a number of its own.
 */
const storeNumbers = new WeakMap<Db, number>();
let storesSeen = 0;
function mailboxKey(db: Db, mailboxId: number): number {
  let store = storeNumbers.get(db);
  if (store === undefined) {
    store = storesSeen++;
    storeNumbers.set(db, store);
  }
  return store * 2 ** 32 + mailboxId;
}

/** The entry of a message (RenderingCache.entryFor). */
export function renderingOf(db: Db, mailboxId: number, uidValidity: number, key: MessageKey): Rendered {
  return cache.entryFor(mailboxKey(db, mailboxId), uidValidity, key);
}

/**
 * What this process still knows of a message whose row is gone (expunged by another session, the
 * client not told yet): its entry, if a FETCH made one before. The body itself may still be in the
 * store (bodies are shared by content, fetch.ts reads it by hash), or gone with its last reference.
 */
export function keptRendering(db: Db, mailboxId: number, uidValidity: number, uid: number): Rendered | undefined {
  return cache.kept(mailboxKey(db, mailboxId), uidValidity, uid);
}

/** Fills what `entry` lacks (and `wanted` asks for) from the message's stored JSON. */
export function fillRendered(entry: Rendered, wanted: { envelope: boolean; structure: boolean }, stored: { envelopeJson: string; structureJson: string }): void {
  if (wanted.envelope && entry.envelope === null) {
    entry.envelope = envelope(JSON.parse(stored.envelopeJson) as Envelope);
    cache.charge(entry, stored.envelopeJson.length + entry.envelope.length);
  }
  if (wanted.structure && entry.structure === null) {
    entry.structure = { part: JSON.parse(stored.structureJson) as MimePart, body: null, bodyStructure: null };
    cache.charge(entry, stored.structureJson.length);
  }
}

/** BODY (`extensible` false) or BODYSTRUCTURE (true) text of a message's structure. */
export function bodyStructureText(entry: Rendered, extensible: boolean): string {
  const structure = entry.structure as StructureEntry;
  if (extensible) {
    if (structure.bodyStructure === null) {
      structure.bodyStructure = bodyStructure(structure.part, true);
      cache.charge(entry, structure.bodyStructure.length);
    }
    return structure.bodyStructure;
  }
  if (structure.body === null) {
    structure.body = bodyStructure(structure.part, false);
    cache.charge(entry, structure.body.length);
  }
  return structure.body;
}

/**
 * The header block of a message (its structure must be filled): kept, or read by `read` (which
 * must return exactly octets [0, bodyStart) of the body, or undefined if the body is gone).
 */
export function headerOctets(entry: Rendered, read: (length: number) => Buffer | undefined): Buffer | undefined {
  if (entry.header === null) {
    const octets = read((entry.structure as StructureEntry).part.bodyStart);
    if (octets === undefined) return undefined;
    entry.header = octets;
    cache.charge(entry, octets.length);
  }
  return entry.header;
}

/** How a top-level header section is named among a message's kept answers: text, field names, partial range. */
const sectionSpecs = new WeakMap<BodySectionItem, string>();
export function sectionSpec(item: BodySectionItem): string {
  let spec = sectionSpecs.get(item);
  if (spec === undefined) {
    const { text, fields } = item.section;
    spec = `${text ?? ''} (${fields.map((name) => name.toLowerCase()).join(' ')})${item.partial ? `<${item.partial.origin}.${item.partial.count}>` : ''}`;
    sectionSpecs.set(item, spec);
  }
  return spec;
}

/** A kept answer of a top-level header section, or undefined. */
export function keptHeaderSection(entry: Rendered, item: BodySectionItem): Buffer | undefined {
  return entry.sections?.get(sectionSpec(item));
}

/** Keeps the answer of a top-level header section (a copy: it holds no larger buffer alive). */
export function keepHeaderSection(entry: Rendered, item: BodySectionItem, octets: Buffer): void {
  const spec = sectionSpec(item);
  (entry.sections ??= new Map()).set(spec, Buffer.from(octets));
  cache.charge(entry, spec.length + octets.length);
}

/** Forgets everything (tests compare kept and fresh renderings). */
export function clearFetchCaches(): void {
  cache.clear();
}
