// Charset and transfer decoding of bytes and header values: charsets with a windows-1252 fallback,
// quoted-printable (RFC 2045 §6.7), RFC 2047 encoded words. Used on the ingest path (header values,
// RFC 2231 parameters) and by src/mime/part-text.ts for bodies.
import { TextDecoder } from 'node:util';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const EQUALS = 0x3d;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const decoders = new Map<string, TextDecoder | null>();

function decoderFor(label: string): TextDecoder | null {
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(label);
    } catch {
      decoder = null; // a label the WHATWG Encoding Standard does not know
    }
    if (decoders.size < 256) decoders.set(label, decoder);
  }
  return decoder;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) return false;
  return true;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// WHATWG Encoding Standard windows-1252 for 0x80-0x9F (the rest is ISO-8859-1). Node >= 20.18.3
// decodes windows-1252 as ISO-8859-1 (nodejs/node#56542, #60888), so this table does it instead.
const WINDOWS_1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/** Windows-1252, which is also what "iso-8859-1" and "us-ascii" labels mean in practice. */
export function decodeWindows1252(bytes: Uint8Array): string {
  const text = toBuffer(bytes).toString('latin1');
  return /[\u0080-\u009f]/.test(text)
    ? text.replace(/[\u0080-\u009f]/g, (ch) => String.fromCharCode(WINDOWS_1252_C1[ch.charCodeAt(0) - 0x80]))
    : text;
}

/** UTF-8 when the bytes are valid UTF-8, otherwise windows-1252 (which cannot fail). */
export function utf8OrWindows1252(bytes: Uint8Array): string {
  if (isAscii(bytes)) return toBuffer(bytes).toString('latin1');
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

/**
 * Bytes in a declared charset. US-ASCII, UTF-8, a missing or an unknown charset are read as
 * UTF-8 when valid, else as windows-1252 (the superset of Latin-1 that mail clients emit):
 * 8-bit mail often lies about its charset (RFC 6152 senders that forgot to label UTF-8), and
 * this fallback never loses a byte (README "Client quirks").
 */
export function decodeBytes(bytes: Uint8Array, charset?: string | null): string {
  const label = (charset ?? '').trim().toLowerCase();
  if (label === '' || label === 'us-ascii' || label === 'ascii' || label === 'utf-8' || label === 'utf8') {
    return utf8OrWindows1252(bytes);
  }
  const decoder = decoderFor(label);
  if (!decoder) return utf8OrWindows1252(bytes);
  return decoder.encoding === 'windows-1252' ? decodeWindows1252(bytes) : decoder.decode(bytes);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/**
 * Quoted-printable (RFC 2045 §6.7): "=XX" is an octet, "=" at the end of a line is a soft line
 * break, whitespace at the end of an encoded line was added in transport and is dropped (rule 3).
 * A lone "=" that is neither is kept as is.
 */
export function decodeQuotedPrintable(input: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let length = 0;
  let trailingSpaceFrom = -1; // where literal whitespace at the end of the current line starts
  for (let i = 0; i < input.length; i++) {
    const byte = input[i];
    if (byte === EQUALS) {
      const high = i + 2 < input.length ? hexValue(input[i + 1]) : -1;
      const low = high >= 0 ? hexValue(input[i + 2]) : -1;
      if (high >= 0 && low >= 0) {
        out[length++] = (high << 4) | low;
        trailingSpaceFrom = -1;
        i += 2;
        continue;
      }
      let j = i + 1;
      while (j < input.length && (input[j] === SP || input[j] === TAB)) j++;
      if (j < input.length && (input[j] === LF || (input[j] === CR && input[j + 1] === LF))) {
        i = input[j] === CR ? j + 1 : j; // soft line break: whitespace before it is data
        trailingSpaceFrom = -1;
        continue;
      }
      if (j === input.length) break; // "=" closing the body: a soft break before nothing
    }
    if (byte === SP || byte === TAB) {
      if (trailingSpaceFrom < 0) trailingSpaceFrom = length;
    } else if (byte === CR || byte === LF) {
      if (trailingSpaceFrom >= 0) length = trailingSpaceFrom;
      trailingSpaceFrom = -1;
    } else {
      trailingSpaceFrom = -1;
    }
    out[length++] = byte;
  }
  if (trailingSpaceFrom >= 0) length = trailingSpaceFrom;
  return out.subarray(0, length);
}

// RFC 2047 §2 encoded-word; the charset may carry an RFC 2231 §5 language suffix ("utf-8*fr").
const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

function decodeQ(text: string): Buffer {
  // RFC 2047 §4.2: "_" is a space, "=XX" an octet.
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x5f) {
      out[length++] = SP;
    } else if (byte === EQUALS && i + 2 < bytes.length && hexValue(bytes[i + 1]) >= 0 && hexValue(bytes[i + 2]) >= 0) {
      out[length++] = (hexValue(bytes[i + 1]) << 4) | hexValue(bytes[i + 2]);
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

/**
 * A header value with its RFC 2047 encoded words decoded. Whitespace between two adjacent
 * encoded words is dropped (§6.2), and adjacent words in one charset are decoded together, so a
 * multi-byte character split across two words survives.
 */
export function decodeHeaderValue(value: string): string {
  if (!value.includes('=?')) return value;
  let result = '';
  let pendingCharset = '';
  let pending: Buffer[] = [];
  let last = 0;
  const flush = (): void => {
    if (pending.length > 0) result += decodeBytes(Buffer.concat(pending), pendingCharset);
    pending = [];
  };
  for (const match of value.matchAll(ENCODED_WORD)) {
    const index = match.index ?? 0;
    const gap = value.slice(last, index);
    const adjacent = pending.length > 0 && gap.trim() === '';
    const charset = match[1].split('*')[0].toLowerCase();
    const bytes = match[2].toLowerCase() === 'b' ? Buffer.from(match[3], 'base64') : decodeQ(match[3]);
    if (!adjacent || charset !== pendingCharset) {
      flush();
      if (!adjacent) result += gap;
      pendingCharset = charset;
    }
    pending.push(bytes);
    last = index + match[0].length;
  }
  flush();
  return result + value.slice(last);
}
