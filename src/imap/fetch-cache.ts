// What FETCH renders again and again for the same messages (clients and imaptest's stress mix
// fetch ENVELOPE, BODY, BODYSTRUCTURE and header fields of the same messages over and over),
// kept per process in bounded caches so a repeated FETCH neither parses the stored JSON nor
// re-encodes it (RFC 3501 §7.4.2).
//
// Never stale, by construction:
// - ENVELOPE text is keyed by the stored ENVELOPE JSON itself, the MIME structure (parsed, and
//   its BODY / BODYSTRUCTURE texts) by the stored structure JSON itself: the rendering is a pure
//   function of that text, so two messages share an entry only if they would render the same.
// - Header octets are keyed by body hash and length: the body store is content-addressed (the
//   hash names the octets), so the same key always stands for the same octets.
// Each cache holds at most a budget of characters (or octets); past it the oldest entries go.
import type { Envelope, MimePart } from '../mime';
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

/** About 8 M characters of ENVELOPE JSON and text (a few thousand messages). */
const envelopes = new BoundedCache<string>(8 << 20);
/** About 16 M characters of structure JSON and texts (the parsed object counted as its JSON). */
const structures = new BoundedCache<StructureEntry>(16 << 20);
/** About 8 MB of header octets. */
const headers = new BoundedCache<Buffer>(8 << 20);

/** The ENVELOPE text (RFC 3501 §7.4.2) of a message, from its stored ENVELOPE JSON. */
export function envelopeText(envelopeJson: string): string {
  let text = envelopes.get(envelopeJson);
  if (text === undefined) {
    text = envelope(JSON.parse(envelopeJson) as Envelope);
    envelopes.set(envelopeJson, text, envelopeJson.length + text.length);
  }
  return text;
}

/** The parsed MIME structure of a message, from its stored structure JSON. */
export function structureOf(structureJson: string): StructureEntry {
  let entry = structures.get(structureJson);
  if (entry === undefined) {
    entry = { part: JSON.parse(structureJson) as MimePart, body: null, bodyStructure: null };
    // the parsed object and the two texts rendered later are each counted as long as the JSON
    structures.set(structureJson, entry, structureJson.length * 3);
  }
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

/** Empties every cache (tests compare cached and fresh renderings). */
export function clearFetchCaches(): void {
  envelopes.clear();
  structures.clear();
  headers.clear();
}
