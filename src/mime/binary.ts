// IMAP BINARY (RFC 3516) on the MIME structure cached at ingest: a part's content with its
// Content-Transfer-Encoding undone (§4.2), and the rewrite of binary parts of a message APPENDed
// as literal8 (§4.3) so that BODY[...] never has to carry a NUL (RFC 3501 §4.3 literals cannot).
import { decodeBody } from './part-text';
import { parseMessage, partAt, type MimePart } from './structure';

/** The transfer encodings this server can undo (RFC 2045 §6.1); others get NO [UNKNOWN-CTE]. */
const KNOWN_ENCODINGS = new Set(['7BIT', '8BIT', 'BINARY', 'BASE64', 'QUOTED-PRINTABLE']);

export type BinaryContent =
  | { kind: 'data'; data: Buffer }
  /** The part does not exist. */
  | { kind: 'missing' }
  /** RFC 3516 §4.2: an encoding the server does not know. */
  | { kind: 'unknown-cte'; encoding: string };

/**
 * The octets BINARY[part] designates (RFC 3516 §4.2): [] is the whole message as stored; a
 * multipart or message/rfc822 part is given as BODY[part] would (nothing to decode at that level);
 * a leaf part is its body, base64 or quoted-printable decoded.
 */
export function binaryContent(raw: Buffer, structure: MimePart, partNumbers: readonly number[]): BinaryContent {
  if (partNumbers.length === 0) return { kind: 'data', data: raw.subarray(structure.headerStart, structure.end) };
  const part = partAt(structure, [...partNumbers]);
  if (!part) return { kind: 'missing' };
  if (part.parts || part.message) return { kind: 'data', data: raw.subarray(part.bodyStart, part.end) };
  const encoding = part.encoding.toUpperCase();
  if (!KNOWN_ENCODINGS.has(encoding)) return { kind: 'unknown-cte', encoding: part.encoding };
  return { kind: 'data', data: decodeBody(raw, part) };
}

/** The leaf parts of a structure, in message order (message/rfc822 parts looked into). */
function leaves(part: MimePart, into: MimePart[] = []): MimePart[] {
  if (part.parts) for (const child of part.parts) leaves(child, into);
  else if (part.message) leaves(part.message, into);
  else into.push(part);
  return into;
}

const CTE_FIELD = /^content-transfer-encoding[ \t]*:/i;

/** A part's MIME header with its Content-Transfer-Encoding field(s) replaced by base64. */
function headerWithBase64(raw: Buffer, part: MimePart): Buffer {
  const lines = raw.toString('latin1', part.headerStart, part.bodyStart).split(/(?<=\n)/);
  const kept: string[] = [];
  let dropping = false;
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') break; // the empty line that ends the header
    if (line[0] === ' ' || line[0] === '\t') {
      if (!dropping) kept.push(line);
      continue;
    }
    dropping = CTE_FIELD.test(line);
    if (!dropping) kept.push(line.endsWith('\n') ? line : `${line}\r\n`);
  }
  kept.push('Content-Transfer-Encoding: base64\r\n\r\n');
  return Buffer.from(kept.join(''), 'latin1');
}

/** Base64 in lines of 76 characters (RFC 2045 §6.8), CRLF between lines. */
function base64Lines(data: Buffer): string {
  const text = data.toString('base64');
  const lines: string[] = [];
  for (let at = 0; at < text.length; at += 76) lines.push(text.slice(at, at + 76));
  return lines.join('\r\n');
}

/**
 * A message uploaded as literal8 (RFC 3516 §4.3) with every leaf part that holds a NUL octet
 * re-encoded as base64 (header field replaced, content encoded): the stored message is then a
 * valid RFC 5322 message, BODY[...] sends it in an ordinary literal, and BINARY[...] gives the
 * client its original octets back. A message without NUL is returned unchanged.
 */
export function encodeBinaryParts(raw: Buffer): Buffer {
  if (!raw.includes(0)) return raw;
  const { structure } = parseMessage(raw);
  const binary = leaves(structure).filter((part) => part.encoding.toUpperCase() !== 'BASE64' && raw.subarray(part.bodyStart, part.end).includes(0));
  if (binary.length === 0) return raw;
  const pieces: Buffer[] = [];
  let at = 0;
  for (const part of binary) {
    pieces.push(raw.subarray(at, part.headerStart), headerWithBase64(raw, part));
    pieces.push(Buffer.from(base64Lines(decodeBody(raw, part)), 'latin1'));
    at = part.end;
  }
  if (at === raw.length) pieces.push(Buffer.from('\r\n')); // a single-part message: end its last line
  pieces.push(raw.subarray(at));
  return Buffer.concat(pieces);
}
