// The decoded text of a message's parts, for SEARCH BODY/TEXT (RFC 3501 §6.4.4): transfer decoding
// (RFC 2045 §6) and charset of each part, HTML reduced to its text. Body decoding happens when
// SEARCH asks for it, never at ingest.
import { decodeBytes, decodeQuotedPrintable } from './decode';
import type { MimePart } from './structure';

/** A part's body without its content-transfer-encoding (RFC 2045 §6). */
export function decodeBody(raw: Buffer, part: MimePart): Buffer {
  const body = raw.subarray(part.bodyStart, part.end);
  switch (part.encoding.toLowerCase()) {
    case 'base64':
      // Node's decoder skips line breaks and characters outside the alphabet (RFC 2045 §6.8).
      return Buffer.from(body.toString('latin1'), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default: // 7bit, 8bit, binary, and unknown encodings, which RFC 2045 §6.4 says to leave alone
      return body;
  }
}

/** The text of a part, decoded from its transfer encoding and its charset. */
export function textOf(raw: Buffer, part: MimePart): string {
  return decodeBytes(decodeBody(raw, part), part.params.charset);
}

/** The HTML named entities of accented Latin letters (&eacute; &Ccedil; &ocirc; …), which French
 * HTML mail uses everywhere: letter + acute/grave/circ/uml/tilde/cedil/ring composed with NFC. */
function accentEntities(): Record<string, string> {
  const marks: Record<string, string> = { acute: '\u0301', grave: '\u0300', circ: '\u0302', uml: '\u0308', tilde: '\u0303', cedil: '\u0327', ring: '\u030a' };
  const entities: Record<string, string> = {};
  for (const letter of 'aeiouycnAEIOUYCN') {
    for (const [name, mark] of Object.entries(marks)) {
      const composed = (letter + mark).normalize('NFC');
      if (composed.length === 1) entities[letter + name] = composed;
    }
  }
  return entities;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ',
  ...accentEntities(),
  szlig: 'ß', aelig: 'æ', AElig: 'Æ', oelig: 'œ', OElig: 'Œ', euro: '€', deg: '°', laquo: '«', raquo: '»',
  hellip: '…', rsquo: '’', lsquo: '‘', ldquo: '“', rdquo: '”', ndash: '–', mdash: '—',
};
const LOWER_CASE_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos', 'nbsp']);

/** Text of an HTML body for searching: tags become spaces, common entities are decoded. Linear. */
export function htmlToText(html: string): string {
  let text = '';
  let pos = 0;
  for (;;) {
    const open = html.indexOf('<', pos);
    if (open < 0) break;
    const close = html.indexOf('>', open + 1);
    if (close < 0) break; // an unclosed "<" is text
    text += html.slice(pos, open) + ' ';
    pos = close + 1;
  }
  text += html.slice(pos);
  return text.replace(/&(#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,6});/gi, (entity, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    // Accented entities are case-sensitive (&Eacute; is É); the basic ones are often written in
    // capitals by old mailers (README "Client quirks").
    return NAMED_ENTITIES[name] ?? (LOWER_CASE_ENTITIES.has(name.toLowerCase()) ? NAMED_ENTITIES[name.toLowerCase()] : entity);
  });
}

/**
 * The text SEARCH BODY/TEXT looks into: every text/* part, decoded, including those of forwarded
 * messages; other attachments (PDF, IHE_XDM.ZIP...) are skipped.
 */
export function searchableText(raw: Buffer, structure: MimePart): string {
  const texts: string[] = [];
  const visit = (part: MimePart): void => {
    if (part.parts) {
      for (const child of part.parts) visit(child);
    } else if (part.message) {
      visit(part.message);
    } else if (part.type === 'text') {
      const text = textOf(raw, part);
      texts.push(part.subtype === 'html' ? htmlToText(text) : text);
    }
  };
  visit(structure);
  return texts.join('\n');
}
