// MIME structure with byte offsets (RFC 2045, RFC 2046), holding what IMAP BODYSTRUCTURE
// (RFC 3501 §7.4.2) and BODY[section] (§6.4.5) need, so the message is parsed once at ingest.
// Body bytes are only scanned with Buffer.indexOf; they are never turned into strings.
import { buildEnvelope, type Envelope } from './envelope';
import { findHeaderEnd, getHeader, parseHeaderBlock, parseParameterized, type HeaderField } from './headers';

/** Multiparts and messages nested deeper than this are read as plain text leaves. */
export const MAX_DEPTH = 20;
/** Past this many parts in one message, further parts are left out of the structure. */
export const MAX_PARTS = 1000;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const DASH = 0x2d;

export interface Disposition {
  /** Lower case: inline, attachment... */
  type: string;
  params: Record<string, string>;
}

/**
 * One MIME entity. Offsets are absolute in the raw message: the MIME header is
 * [headerStart, bodyStart) (empty line included), the body [bodyStart, end). Optional members are
 * omitted when the header is absent, to keep the JSON stored per message small.
 */
export interface MimePart {
  headerStart: number;
  bodyStart: number;
  end: number;
  /** Lower-case media type and subtype (RFC 2045 §5.2 default: text/plain; charset=us-ascii). */
  type: string;
  subtype: string;
  /** Content-Type parameters by lower-case name (RFC 2231 decoded). */
  params: Record<string, string>;
  /** Content-Transfer-Encoding, upper case; 7BIT when absent (RFC 2045 §6.1). */
  encoding: string;
  /** Body size in octets, as stored (still transfer-encoded). */
  size: number;
  /** Body size in lines, for text/* and message/rfc822 parts. */
  lines?: number;
  id?: string;
  description?: string;
  md5?: string;
  disposition?: Disposition;
  language?: string[];
  location?: string;
  /** Children of a multipart, in order (part numbers 1, 2, ...). */
  parts?: MimePart[];
  /** For message/rfc822 (and message/global): the encapsulated message's envelope... */
  envelope?: Envelope;
  /** ...and the encapsulated message itself, its header starting at this part's bodyStart. */
  message?: MimePart;
}

export interface ParsedMessage {
  /** Header fields of the top-level message. */
  header: HeaderField[];
  structure: MimePart;
}

interface Budget {
  parts: number;
}

function countLines(raw: Buffer, start: number, end: number): number {
  const region = raw.subarray(0, end);
  let lines = 0;
  for (let pos = region.indexOf(LF, start); pos >= 0; pos = region.indexOf(LF, pos + 1)) lines++;
  if (end > start && raw[end - 1] !== LF) lines++; // an unterminated last line still counts
  return lines;
}

/**
 * Splits a multipart body into its body parts (RFC 2046 §5.1.1). A delimiter is "--boundary" at
 * the start of a line, followed by optional whitespace and the line end; the line break before it
 * belongs to the delimiter, not to the part. "--boundary--" closes; what follows is the epilogue,
 * what precedes the first delimiter the preamble. Without a close delimiter the last part runs to
 * the end of the multipart.
 */
function splitMultipart(raw: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const region = raw.subarray(0, end);
  const delimiter = Buffer.from('--' + boundary, 'utf8');
  const ranges: Array<[number, number]> = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    const hit = region.indexOf(delimiter, pos);
    if (hit < 0) break;
    pos = hit + 1;
    if (hit !== start && region[hit - 1] !== LF) continue;
    let after = hit + delimiter.length;
    const closing = region[after] === DASH && region[after + 1] === DASH;
    if (!closing) {
      while (after < end && (region[after] === SP || region[after] === TAB)) after++; // transport padding
      if (after < end) {
        if (region[after] === CR && region[after + 1] === LF) after += 2;
        else if (region[after] === LF) after += 1;
        else continue; // "--boundary" followed by text: another boundary that starts like ours
      }
    }
    if (partStart >= 0) {
      let partEnd = hit;
      if (partEnd > partStart && region[partEnd - 1] === LF) partEnd--;
      if (partEnd > partStart && region[partEnd - 1] === CR) partEnd--;
      ranges.push([partStart, partEnd]);
    }
    if (closing) return ranges;
    partStart = after;
    pos = after;
  }
  if (partStart >= 0) ranges.push([partStart, end]);
  return ranges;
}

function plainTextLeaf(part: MimePart): void {
  part.type = 'text';
  part.subtype = 'plain';
  part.params = { charset: 'us-ascii' };
}

/** Applies the Content-* fields (RFC 2045 §5-8, RFC 2183, RFC 3066, RFC 2557) to a part. */
function describe(part: MimePart, fields: HeaderField[], defaultType: 'text' | 'message'): void {
  const contentType = getHeader(fields, 'content-type');
  const parsed = contentType === null ? null : parseParameterized(contentType);
  const slash = parsed ? parsed.value.indexOf('/') : -1;
  if (parsed && slash > 0 && slash < parsed.value.length - 1) {
    part.type = parsed.value.slice(0, slash);
    part.subtype = parsed.value.slice(slash + 1);
    part.params = parsed.params;
  } else if (contentType === null && defaultType === 'message') {
    part.type = 'message'; // RFC 2046 §5.1.5: the default inside multipart/digest
    part.subtype = 'rfc822';
  } else {
    plainTextLeaf(part); // absent or syntactically invalid (RFC 2045 §5.2)
  }

  const encoding = getHeader(fields, 'content-transfer-encoding');
  if (encoding !== null) {
    const token = encoding.replace(/\([^)]*\)/g, '').trim().split(/[\s;]/)[0];
    if (token !== '') part.encoding = token.toUpperCase();
  }
  const id = getHeader(fields, 'content-id');
  if (id !== null) part.id = id;
  const description = getHeader(fields, 'content-description');
  if (description !== null) part.description = description;
  const md5 = getHeader(fields, 'content-md5');
  if (md5 !== null) part.md5 = md5;
  const disposition = getHeader(fields, 'content-disposition');
  if (disposition !== null) {
    const { value, params } = parseParameterized(disposition);
    if (value !== '') part.disposition = { type: value, params };
  }
  const language = getHeader(fields, 'content-language');
  if (language !== null) {
    const tags = language
      .replace(/\([^)]*\)/g, '')
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== '');
    if (tags.length > 0) part.language = tags;
  }
  const location = getHeader(fields, 'content-location');
  if (location !== null) part.location = location.replace(/\s+/g, ''); // RFC 2557 §4.3: folding is not part of the URI
}

function parseEntity(
  raw: Buffer,
  start: number,
  end: number,
  depth: number,
  defaultType: 'text' | 'message',
  budget: Budget,
): { part: MimePart; fields: HeaderField[] } {
  budget.parts++;
  const { bodyStart } = findHeaderEnd(raw, start, end);
  const fields = parseHeaderBlock(raw, start, bodyStart);
  const part: MimePart = {
    headerStart: start,
    bodyStart,
    end,
    type: 'text',
    subtype: 'plain',
    params: {},
    encoding: '7BIT',
    size: end - bodyStart,
  };
  describe(part, fields, defaultType);
  const canDescend = depth < MAX_DEPTH && budget.parts < MAX_PARTS;

  if (part.type === 'multipart') {
    const boundary = part.params.boundary;
    const ranges = canDescend && boundary ? splitMultipart(raw, bodyStart, end, boundary) : [];
    if (ranges.length === 0) {
      plainTextLeaf(part); // no boundary, no delimiter found, or nested too deep
    } else {
      const childDefault = part.subtype === 'digest' ? 'message' : 'text';
      part.parts = [];
      for (const [childStart, childEnd] of ranges) {
        if (part.parts.length > 0 && budget.parts >= MAX_PARTS) break;
        part.parts.push(parseEntity(raw, childStart, childEnd, depth + 1, childDefault, budget).part);
      }
    }
  } else if (part.type === 'message' && (part.subtype === 'rfc822' || part.subtype === 'global')) {
    if (canDescend) {
      // RFC 2046 §5.2.1; message/global is its RFC 6532 UTF-8 counterpart
      const embedded = parseEntity(raw, bodyStart, end, depth + 1, 'text', budget);
      part.envelope = buildEnvelope(embedded.fields);
      part.message = embedded.part;
    } else {
      plainTextLeaf(part);
    }
  }
  if (part.message?.lines !== undefined) {
    // the embedded header ends with its empty line, so its lines add to those of its body
    part.lines = countLines(raw, bodyStart, part.message.bodyStart) + part.message.lines;
  } else if (part.type === 'text' || part.message) {
    part.lines = countLines(raw, bodyStart, end);
  }
  return { part, fields };
}

/** The top-level header fields and the MIME structure of a raw message. Never throws. */
export function parseMessage(raw: Buffer): ParsedMessage {
  const { part, fields } = parseEntity(raw, 0, raw.length, 0, 'text', { parts: 0 });
  return { header: fields, structure: part };
}

/** The MIME structure of a raw message. */
export function parseStructure(raw: Buffer): MimePart {
  return parseMessage(raw).structure;
}

/**
 * The part a section number designates (RFC 3501 §6.4.5), e.g. [4, 2, 1] for "4.2.1"; [] is the
 * message itself. The parts of a multipart are numbered from 1; the parts of a message/rfc822
 * are those of the encapsulated message. A message (the top level, or an encapsulated one) that
 * is not multipart has only a part 1, its body (§6.4.5: "non-multipart messages ... only have a
 * part 1"); a body part that is neither multipart nor a message has no parts below it, so
 * "1.1.1" of a single-part message, or "2.1" of a text/plain part 2, designate nothing (null:
 * an empty section). Dovecot's imap_msgpart_find refuses the same, allowing one extra ".1" on
 * a leaf that RFC 3501 does not give.
 */
export function partAt(root: MimePart, section: readonly number[]): MimePart | null {
  let node = root;
  for (let i = 0; i < section.length; i++) {
    const encapsulated = i > 0 && node.message ? node.message : null;
    const container = encapsulated ?? node;
    const number = section[i];
    if (container.parts) {
      const child = container.parts[number - 1];
      if (!child) return null;
      node = child;
    } else if (number === 1 && (i === 0 || encapsulated !== null)) {
      node = container; // the body of a non-multipart message
    } else {
      return null;
    }
  }
  return node;
}
