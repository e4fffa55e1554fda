// The octets of a BODY[section]<partial> (RFC 3501 §6.4.5), cut from the raw message with the
// offsets of the MIME structure cached at ingest: no parsing of the message at fetch time.
import { binaryContent, partAt, type MimePart } from '../../mime';
import type { BinaryItem, BodySectionItem, FetchItem, Partial, Section } from './fetch-items';

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/**
 * The header fields of [start, end) whose names are (or, with `exclude`, are not) in `names`
 * (lower case), each with its continuation lines, then the empty line that ends a header
 * (RFC 3501 §6.4.5 HEADER.FIELDS: "the subset of the header", "including the delimiting blank
 * line"). Lines that are not fields are never returned.
 */
function selectFields(raw: Buffer, start: number, end: number, names: ReadonlySet<string>, exclude: boolean): Buffer {
  const region = raw.subarray(0, end);
  const pieces: Buffer[] = [];
  let keeping = false; // whether the field being read is selected (its continuation lines follow it)
  let pos = start;
  while (pos < end) {
    const newline = region.indexOf(LF, pos);
    const lineEnd = newline < 0 ? end : newline + 1;
    const first = region[pos];
    if (first === LF || (first === CR && region[pos + 1] === LF)) break; // the empty line
    if (first === SP || first === TAB) {
      if (keeping) pieces.push(region.subarray(pos, lineEnd));
    } else {
      let colon = pos;
      while (colon < lineEnd && region[colon] !== COLON) colon++;
      let nameEnd = colon;
      while (nameEnd > pos && (region[nameEnd - 1] === SP || region[nameEnd - 1] === TAB)) nameEnd--;
      if (colon < lineEnd && nameEnd > pos) {
        const selected = names.has(region.toString('latin1', pos, nameEnd).toLowerCase());
        keeping = selected !== exclude;
      } else {
        keeping = false; // not a field
      }
      if (keeping) pieces.push(region.subarray(pos, lineEnd));
    }
    pos = lineEnd;
  }
  const last = pieces[pieces.length - 1];
  if (last && last[last.length - 1] !== LF) pieces.push(CRLF); // a header cut without its line end
  pieces.push(CRLF);
  return Buffer.concat(pieces);
}

/** The lower-case field names of a HEADER.FIELDS(.NOT) section, made once per command, not per message. */
const fieldNameSets = new WeakMap<Section, ReadonlySet<string>>();
function fieldNames(section: Section): ReadonlySet<string> {
  let names = fieldNameSets.get(section);
  if (!names) {
    names = new Set(section.fields.map((name) => name.toLowerCase()));
    fieldNameSets.set(section, names);
  }
  return names;
}

/**
 * The octets a section designates (RFC 3501 §6.4.5), before any partial range:
 * - [] the whole message; [HEADER] its header, empty line included; [TEXT] its body;
 * - [1.2] the body of a part (for a message/rfc822 part: the whole encapsulated message);
 * - [1.2.MIME] the part's own MIME header;
 * - [1.2.HEADER], [1.2.TEXT], [1.2.HEADER.FIELDS (...)] the header or body of the message
 *   a message/rfc822 part encapsulates (empty for any other part);
 * - HEADER.FIELDS(.NOT): the selected header lines, then the empty line.
 * A part that does not exist gives an empty string.
 */
export function sectionContent(raw: Buffer, structure: MimePart, section: Section): Buffer {
  const part = partAt(structure, section.part);
  if (!part) return EMPTY;
  if (section.text === null) {
    return section.part.length === 0 ? raw.subarray(structure.headerStart, structure.end) : raw.subarray(part.bodyStart, part.end);
  }
  if (section.text === 'MIME') return raw.subarray(part.headerStart, part.bodyStart);
  // HEADER, HEADER.FIELDS[.NOT], TEXT: of the message itself, or of an encapsulated message
  const message = section.part.length === 0 ? part : part.message;
  if (!message) return EMPTY;
  switch (section.text) {
    case 'TEXT':
      return raw.subarray(message.bodyStart, message.end);
    case 'HEADER':
      return raw.subarray(message.headerStart, message.bodyStart);
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      return selectFields(
        raw,
        message.headerStart,
        message.bodyStart,
        fieldNames(section),
        section.text === 'HEADER.FIELDS.NOT',
      );
  }
}

/**
 * `<origin.count>` (RFC 3501 §6.4.5): at most `count` octets from `origin`; an origin past the
 * end gives an empty string.
 */
export function applyPartial(data: Buffer, partial: Partial | null): Buffer {
  if (!partial) return data;
  if (partial.origin >= data.length) return EMPTY;
  return data.subarray(partial.origin, Math.min(data.length, partial.origin + partial.count));
}

/** The octets to send for a BODY[...] (or RFC822...) item. */
export function fetchSection(raw: Buffer, structure: MimePart, item: BodySectionItem): Buffer {
  return applyPartial(sectionContent(raw, structure, item.section), item.partial);
}

/**
 * Whether fetching the item sets \Seen (RFC 3501 §6.4.5): BODY[...] without .PEEK, RFC822,
 * RFC822.TEXT and BINARY[...] (RFC 3516 §4.2) do; BODY.PEEK[...], BINARY.PEEK[...],
 * BINARY.SIZE[...], RFC822.HEADER and every other item do not.
 */
export function setsSeen(item: FetchItem): boolean {
  return (item.type === 'section' || item.type === 'binary') && !item.peek;
}

/** What to send for a BINARY, BINARY.PEEK or BINARY.SIZE item (RFC 3516 §4.2). */
export type BinaryAnswer =
  /** `BINARY[...] ~{n}` (literal8 when the octets hold a NUL) or `BINARY.SIZE[...] n`. */
  | { kind: 'data'; data: Buffer; size: number; literal8: boolean }
  /** The part does not exist: NIL (BINARY.SIZE: 0). */
  | { kind: 'nil' }
  /** The part's Content-Transfer-Encoding is unknown: the command ends in NO [UNKNOWN-CTE]. */
  | { kind: 'unknown-cte'; encoding: string };

export function fetchBinary(raw: Buffer, structure: MimePart, item: BinaryItem): BinaryAnswer {
  const content = binaryContent(raw, structure, item.part);
  if (content.kind === 'missing') return { kind: 'nil' };
  if (content.kind === 'unknown-cte') return content;
  const data = applyPartial(content.data, item.partial);
  return { kind: 'data', data, size: content.data.length, literal8: data.includes(0) };
}
