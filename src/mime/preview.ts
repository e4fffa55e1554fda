// The text preview of a message for IMAP PREVIEW (RFC 8970 section 3): at most 256 characters
// of its first text part (text/plain preferred, else text/html reduced to text), quoted lines
// ("> ...") left out and runs of whitespace collapsed to one space. Computed from the MIME
// structure cached at ingest and one part's decoding; "" when the message has no text part.
import { decodeBytes } from './decode';
import { decodeBody, htmlToText } from './part-text';
import type { MimePart } from './structure';

/** RFC 8970 section 3: "no more than 256 characters". */
export const PREVIEW_LENGTH = 256;
/** Only this much of a part is decoded for its preview (a long report needs no more). */
const SCAN_OCTETS = 16384;

function firstText(part: MimePart, subtype: string): MimePart | null {
  if (part.parts) {
    for (const child of part.parts) {
      const found = firstText(child, subtype);
      if (found) return found;
    }
    return null;
  }
  if (part.message) return null; // a forwarded message is not this message's text
  const attachment = part.disposition?.type === 'attachment';
  return part.type === 'text' && part.subtype === subtype && !attachment ? part : null;
}

/**
 * Bytes cut at an arbitrary offset without the UTF-8 sequence the cut split (so the decoder does
 * not take the whole text for windows-1252); other charsets are single-byte or self-resynchronising.
 */
function withoutCutCharacter(bytes: Buffer): Buffer {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}

export function messagePreview(raw: Buffer, structure: MimePart): string {
  const plain = firstText(structure, 'plain');
  const part = plain ?? firstText(structure, 'html');
  if (!part) return '';
  // a bounded slice of the body: enough text for 256 characters once decoded
  const bounded: MimePart = { ...part, end: Math.min(part.end, part.bodyStart + SCAN_OCTETS) };
  let bytes = decodeBody(raw, bounded);
  if (bounded.end < part.end) bytes = withoutCutCharacter(bytes);
  let text = decodeBytes(bytes, part.params.charset);
  if (!plain) text = htmlToText(text);
  const lines = text.split(/\r?\n/).filter((line) => !/^\s*>/.test(line));
  const collapsed = lines.join(' ').replace(/\s+/g, ' ').trim();
  const chars = [...collapsed];
  return chars.length <= PREVIEW_LENGTH ? collapsed : chars.slice(0, PREVIEW_LENGTH).join('');
}
