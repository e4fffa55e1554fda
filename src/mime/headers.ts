// Header sections (RFC 5322 §2.2, §3.2.2 unfolding) and parameterised MIME header values
// (RFC 2045 §5.1, RFC 2231). Works on raw Buffers with absolute offsets; never throws.
import { decodeBytes, utf8OrWindows1252 } from './decode';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

export interface HeaderField {
  /** Field name as written. */
  name: string;
  /** Field name in lower case, for lookups. */
  key: string;
  /**
   * Unfolded value, leading and trailing whitespace removed, encoded words left as they are.
   * Bytes are read as UTF-8 (RFC 6532), or as windows-1252 (Latin-1) when they are not valid UTF-8.
   */
  value: string;
  /** Offset of the field's first byte in the raw message. */
  start: number;
  /** Offset just after the field's last line break. */
  end: number;
}

export interface HeaderEnd {
  /** Offset of the body's first byte: just after the empty line, or the end when there is none. */
  bodyStart: number;
  /** Octets of the header section, empty line included (what BODY[HEADER] returns). */
  headerLength: number;
}

/**
 * Where the header section starting at `start` ends (RFC 5322 §2.1: at the first empty line).
 * Without an empty line the whole range is header and the body is empty, as for a message that
 * has no body at all.
 */
export function findHeaderEnd(raw: Buffer, start: number, end: number = raw.length): HeaderEnd {
  const region = raw.subarray(0, end);
  let pos = start;
  while (pos < end) {
    if (region[pos] === LF) return { bodyStart: pos + 1, headerLength: pos + 1 - start };
    if (region[pos] === CR && region[pos + 1] === LF) return { bodyStart: pos + 2, headerLength: pos + 2 - start };
    const newline = region.indexOf(LF, pos);
    if (newline < 0) break;
    pos = newline + 1;
  }
  return { bodyStart: end, headerLength: end - start };
}

/** A field name is printable US-ASCII without ":" (RFC 5322 §3.6.8 ftext). */
function fieldNameEnd(raw: Buffer, lineStart: number, colon: number): number {
  let nameEnd = colon;
  while (nameEnd > lineStart && (raw[nameEnd - 1] === SP || raw[nameEnd - 1] === TAB)) nameEnd--; // obs-optional
  if (nameEnd === lineStart) return -1;
  for (let i = lineStart; i < nameEnd; i++) if (raw[i] < 33 || raw[i] > 126) return -1;
  return nameEnd;
}

function isWhitespace(code: number): boolean {
  return code === SP || code === TAB || code === CR || code === LF;
}

function fieldValue(raw: Buffer, from: number, to: number): string {
  while (from < to && isWhitespace(raw[from])) from++;
  while (to > from && isWhitespace(raw[to - 1])) to--;
  const text = utf8OrWindows1252(raw.subarray(from, to));
  // Unfolding (RFC 5322 §2.2.3): a line break followed by whitespace is removed, the whitespace kept.
  return text.includes('\n') ? text.replace(/\r?\n/g, '') : text;
}

/**
 * The fields of the header section in [start, end) (stops at an empty line). A line that is not
 * a field (no colon, a name with spaces or 8-bit bytes) is skipped, as is a continuation line
 * with no field before it.
 */
export function parseHeaderBlock(raw: Buffer, start: number, end: number): HeaderField[] {
  const region = raw.subarray(0, end);
  const fields: HeaderField[] = [];
  let current: { name: string; start: number; valueStart: number; end: number } | null = null;
  const finish = (): void => {
    if (!current) return;
    const name = current.name;
    fields.push({
      name,
      key: name.toLowerCase(),
      value: fieldValue(raw, current.valueStart, current.end),
      start: current.start,
      end: current.end,
    });
    current = null;
  };
  let pos = start;
  while (pos < end) {
    const newline = region.indexOf(LF, pos);
    const lineEnd = newline < 0 ? end : newline + 1;
    const first = region[pos];
    if (first === LF || (first === CR && region[pos + 1] === LF)) break; // the empty line
    if (first === SP || first === TAB) {
      if (current) current.end = lineEnd; // folded continuation
    } else {
      finish();
      let colon = pos; // searched within the line only, so colon-less lines stay linear
      while (colon < lineEnd && region[colon] !== COLON) colon++;
      if (colon < lineEnd) {
        const nameEnd = fieldNameEnd(raw, pos, colon);
        if (nameEnd > 0) {
          current = { name: raw.toString('latin1', pos, nameEnd), start: pos, valueStart: colon + 1, end: lineEnd };
        }
      }
    }
    pos = lineEnd;
  }
  finish();
  return fields;
}

/** Value of the first field with this name, or null. */
export function getHeader(fields: readonly HeaderField[], key: string): string | null {
  const wanted = key.toLowerCase();
  for (const field of fields) if (field.key === wanted) return field.value;
  return null;
}

/** Values of every field with this name, in order. */
export function getHeaders(fields: readonly HeaderField[], key: string): string[] {
  const wanted = key.toLowerCase();
  const values: string[] = [];
  for (const field of fields) if (field.key === wanted) values.push(field.value);
  return values;
}

export interface Parameterized {
  /** The value before the first ";", lower case, comments and whitespace removed. */
  value: string;
  /** Parameters by lower-case name; RFC 2231 continuations joined and decoded. */
  params: Record<string, string>;
}

interface Cursor {
  text: string;
  pos: number;
}

/** Skips whitespace and (nested) comments (RFC 5322 §3.2.2 CFWS). */
function skipCfws(cursor: Cursor): void {
  const { text } = cursor;
  while (cursor.pos < text.length) {
    const ch = text[cursor.pos];
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      cursor.pos++;
    } else if (ch === '(') {
      let depth = 0;
      while (cursor.pos < text.length) {
        const c = text[cursor.pos++];
        if (c === '\\') cursor.pos++;
        else if (c === '(') depth++;
        else if (c === ')' && --depth === 0) break;
      }
    } else {
      return;
    }
  }
}

function readQuoted(cursor: Cursor): string {
  const { text } = cursor;
  let value = '';
  cursor.pos++; // opening quote
  while (cursor.pos < text.length) {
    const ch = text[cursor.pos++];
    if (ch === '"') break;
    if (ch === '\\' && cursor.pos < text.length) value += text[cursor.pos++];
    else value += ch;
  }
  return value;
}

/** An unquoted value up to ";". Lenient: keeps spaces (broken mailers write `name=my file.pdf`,
 * README "Client quirks"),
 * but drops a trailing comment after a single token (`charset=us-ascii (Plain text)`, RFC 2045 §5.1). */
function readBare(cursor: Cursor): string {
  const { text } = cursor;
  let stop = text.indexOf(';', cursor.pos);
  if (stop < 0) stop = text.length;
  let value = text.slice(cursor.pos, stop).trim();
  cursor.pos = stop;
  const comment = /^([^\s()]+)\s*\(.*\)$/.exec(value);
  if (comment) value = comment[1];
  return value;
}

interface Continuation {
  index: number;
  extended: boolean;
  value: string;
}

function percentDecode(text: string, into: number[]): void {
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x25 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      into.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch < 0x80) {
      into.push(ch);
    } else {
      for (const byte of Buffer.from(text[i], 'utf8')) into.push(byte);
    }
  }
}

/** RFC 2231 §3-4: join `name*0*=utf-8''a%C3; name*1*=%A9` in index order, then decode the charset. */
function joinContinuations(segments: Continuation[]): string {
  segments.sort((a, b) => a.index - b.index);
  const bytes: number[] = [];
  let charset = '';
  segments.forEach((segment, position) => {
    let text = segment.value;
    if (position === 0 && segment.extended) {
      const first = text.indexOf("'");
      const second = first >= 0 ? text.indexOf("'", first + 1) : -1;
      if (second >= 0) {
        charset = text.slice(0, first);
        text = text.slice(second + 1);
      }
    }
    if (segment.extended) percentDecode(text, bytes);
    else for (const byte of Buffer.from(text, 'utf8')) bytes.push(byte);
  });
  return decodeBytes(Uint8Array.from(bytes), charset);
}

/**
 * A parameterised value such as Content-Type or Content-Disposition (RFC 2045 §5.1):
 * `type/subtype *(";" attribute "=" value)`, values being tokens or quoted strings, with RFC 2231
 * extended parameters. An RFC 2231 parameter wins over a plain one of the same name.
 */
export function parseParameterized(header: string): Parameterized {
  const cursor: Cursor = { text: header, pos: 0 };
  skipCfws(cursor);
  let valueEnd = header.indexOf(';');
  if (valueEnd < 0) valueEnd = header.length;
  const rawValue = header.slice(cursor.pos, valueEnd);
  const value = rawValue.replace(/\([^)]*\)/g, '').replace(/\s+/g, '').toLowerCase();
  cursor.pos = valueEnd;

  const params: Record<string, string> = {};
  const extended = new Map<string, Continuation[]>();
  let equals = -2; // next "=", searched again only once passed (many ";" stay linear)
  while (cursor.pos < header.length) {
    cursor.pos++; // ";"
    skipCfws(cursor);
    if (equals !== -1 && equals < cursor.pos) equals = header.indexOf('=', cursor.pos);
    const semicolon = header.indexOf(';', cursor.pos);
    if (equals < 0 || (semicolon >= 0 && semicolon < equals)) {
      cursor.pos = semicolon < 0 ? header.length : semicolon; // attribute without value
      continue;
    }
    const attribute = header.slice(cursor.pos, equals).trim().toLowerCase();
    cursor.pos = equals + 1;
    skipCfws(cursor);
    const paramValue = header[cursor.pos] === '"' ? readQuoted(cursor) : readBare(cursor);
    const next = header.indexOf(';', cursor.pos);
    cursor.pos = next < 0 ? header.length : next;
    if (attribute === '' || attribute === '__proto__') continue;

    const star = /^(.*?)\*(?:(\d+)(\*)?)?$/.exec(attribute);
    if (star && star[1] !== '') {
      const name = star[1];
      const segments = extended.get(name) ?? [];
      extended.set(name, segments);
      if (segments.length < 1000) {
        segments.push({
          index: star[2] === undefined ? 0 : Number(star[2]),
          extended: star[2] === undefined || star[3] === '*',
          value: paramValue,
        });
      }
    } else if (!Object.prototype.hasOwnProperty.call(params, attribute)) {
      params[attribute] = paramValue;
    }
  }
  for (const [name, segments] of extended) {
    if (name !== '__proto__') params[name] = joinContinuations(segments);
  }
  return { value, params };
}
