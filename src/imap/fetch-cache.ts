// What FETCH renders again and again for the same messages (clients and imaptest's stress mix
// fetch ENVELOPE, BODY, BODYSTRUCTURE and header fields of the same messages over and over),
// kept per process in bounded caches so a repeated FETCH neither reads nor parses the stored
// JSON, nor re-encodes it (RFC 3501 §7.4.2).
//
// Never stale, by construction:
// - ENVELOPE and the MIME structure (parsed, with its BODY / BODYSTRUCTURE texts) are kept by the
//   message's IMAP identity: mailbox, UIDVALIDITY and UID, which RFC 3501 §2.3.1.1 binds to one
//   message for good (a UID is never reused while UIDVALIDITY holds; this store gives a renamed or
//   recreated mailbox a new UIDVALIDITY), plus its body hash; a message's ENVELOPE and structure
//   are written once, when it is stored, and never changed.
// - Header octets are kept by body hash and length: the body store is content-addressed (the
//   hash names the octets), so the same key always stands for the same octets.
// Each cache holds at most a budget of characters (or octets); past it the oldest entries go.
import type { Envelope, MimePart } from '../mime';
import type { BodySectionItem } from './protocol/fetch-items';
import { bodyStructure, envelope } from './protocol/encode';

/** A map that forgets its oldest entries once the sizes of what it holds pass `budget`. */
export class BoundedCache<V> {
  private readonly entries = new Map<string, { value: V; size: number }>();
  private used = 0;

  constructor(private readonly budget: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Keeps `value`, counted as `size` (plus its key's length); an entry bigger than the budget is not kept. */
  set(key: string, value: V, size: number): void {
    const cost = size + key.length;
    if (cost > this.budget) return;
    const old = this.entries.get(key);
    if (old) {
      this.used -= old.size;
      this.entries.delete(key);
    }
    while (this.used + cost > this.budget) {
      const oldest = this.entries.entries().next().value as [string, { size: number }];
      this.used -= oldest[1].size;
      this.entries.delete(oldest[0]);
    }
    this.entries.set(key, { value, size: cost });
    this.used += cost;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }
}

/** A stored MIME structure, parsed, with its BODY and BODYSTRUCTURE texts once rendered. */
export interface StructureEntry {
  readonly part: MimePart;
  body: string | null;
  bodyStructure: string | null;
}

/** What is kept of one message: each member filled the first time a FETCH needs it. */
export interface Rendered {
  /** ENVELOPE text (RFC 3501 §7.4.2). */
  envelope: string | null;
  structure: StructureEntry | null;
}

/** About 16 M characters of renderings (a few thousand messages). */
const messages = new BoundedCache<Rendered>(16 << 20);
/** About 8 MB of header octets. */
const headers = new BoundedCache<Buffer>(8 << 20);

/** The cache key of a message: its IMAP identity (mailbox, UIDVALIDITY, UID) and body hash. */
export function messageKey(mailboxId: number, uidValidity: number, uid: number, bodyHash: string): string {
  return `${mailboxId}/${uidValidity}/${uid}/${bodyHash}`;
}

/** What is kept of the message `key` (messageKey()), or undefined. */
export function renderedOf(key: string): Rendered | undefined {
  return messages.get(key);
}

/**
 * Fills what `rendered` lacks (and `wanted` asks for) from the message's stored JSON, and keeps
 * it under `key`. The budget counts each JSON three times (parsed object and texts).
 */
export function fillRendered(
  key: string,
  rendered: Rendered | undefined,
  wanted: { envelope: boolean; structure: boolean },
  stored: { envelopeJson: string; structureJson: string },
): Rendered {
  const entry = rendered ?? { envelope: null, structure: null };
  if (wanted.envelope && entry.envelope === null) entry.envelope = envelope(JSON.parse(stored.envelopeJson) as Envelope);
  if (wanted.structure && entry.structure === null) {
    entry.structure = { part: JSON.parse(stored.structureJson) as MimePart, body: null, bodyStructure: null };
  }
  if (!rendered) messages.set(key, entry, 3 * (stored.envelopeJson.length + stored.structureJson.length));
  return entry;
}

/** BODY (`extensible` false) or BODYSTRUCTURE (true) text of a structure entry. */
export function bodyStructureText(entry: StructureEntry, extensible: boolean): string {
  if (extensible) return (entry.bodyStructure ??= bodyStructure(entry.part, true));
  return (entry.body ??= bodyStructure(entry.part, false));
}

/**
 * The first `length` octets of the body named `bodyHash` (a message's header block): from the
 * cache, or read by `read` (which must return exactly those octets, or undefined if the body is
 * gone) and kept.
 */
export function headerOctets(bodyHash: string, length: number, read: () => Buffer | undefined): Buffer | undefined {
  const key = `${bodyHash}:${length}`;
  let octets = headers.get(key);
  if (octets === undefined) {
    octets = read();
    if (octets === undefined) return undefined;
    headers.set(key, octets, octets.length);
  }
  return octets;
}

/** About 4 MB of header sections (BODY[HEADER.FIELDS (...)] answers). */
const headerSections = new BoundedCache<Buffer>(4 << 20);

/** How a top-level header section is named in headerSectionKey(): its text, field names and partial range. */
const sectionSpecs = new WeakMap<BodySectionItem, string>();
function sectionSpec(item: BodySectionItem): string {
  let spec = sectionSpecs.get(item);
  if (spec === undefined) {
    const { text, fields } = item.section;
    spec = `${text ?? ''} (${fields.map((name) => name.toLowerCase()).join(' ')})${item.partial ? `<${item.partial.origin}.${item.partial.count}>` : ''}`;
    sectionSpecs.set(item, spec);
  }
  return spec;
}

/**
 * The cache key of a section of a message's top-level header (HEADER, HEADER.FIELDS[.NOT]):
 * the answer is a pure function of the header octets (named by body hash and length) and of
 * the section spec.
 */
export function headerSectionKey(bodyHash: string, headerLength: number, item: BodySectionItem): string {
  return `${bodyHash}:${headerLength}:${sectionSpec(item)}`;
}

/** A kept header section answer, or undefined. */
export function keptHeaderSection(key: string): Buffer | undefined {
  return headerSections.get(key);
}

/** Keeps a header section answer (a copy, so it holds no larger buffer alive). */
export function keepHeaderSection(key: string, octets: Buffer): void {
  headerSections.set(key, Buffer.from(octets), octets.length);
}

/** Empties every cache (tests compare cached and fresh renderings). */
export function clearFetchCaches(): void {
  messages.clear();
  headers.clear();
  headerSections.clear();
}
