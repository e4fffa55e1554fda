// Parse once at ingest: what the store caches for every message (DESIGN "Shape of the code").
import { buildEnvelope, messageIdOf, type Envelope } from './envelope';
import type { HeaderField } from './headers';
import { parseMessage, type MimePart } from './structure';

export interface MessageAnalysis {
  /** Message-ID without angle brackets (R9 opening status, `mssd message status`), or null. */
  messageId: string | null;
  /** Cached IMAP ENVELOPE. */
  envelope: Envelope;
  /** Cached MIME structure; offsets refer to the exact Buffer given to analyzeMessage. */
  structure: MimePart;
  /** Top-level header fields, for SMTP-side checks (From, X-MSS-*) without a second parse. */
  header: HeaderField[];
}

/**
 * Everything the store needs from a raw message, in one pass over its headers and one indexOf
 * scan per multipart level. Never throws, whatever the bytes.
 */
export function analyzeMessage(raw: Buffer): MessageAnalysis {
  const { header, structure } = parseMessage(raw);
  return { messageId: messageIdOf(header), envelope: buildEnvelope(header), structure, header };
}

export { buildEnvelope, MAX_ENVELOPE_LIST_CHARS, messageIdOf, parseAddressList, type Address, type Envelope } from './envelope';
export {
  findHeaderEnd,
  getHeader,
  getHeaders,
  parseHeaderBlock,
  parseParameterized,
  type HeaderEnd,
  type HeaderField,
  type Parameterized,
} from './headers';
export {
  MAX_DEPTH,
  MAX_PARTS,
  parseMessage,
  parseStructure,
  partAt,
  type Disposition,
  type MimePart,
  type ParsedMessage,
} from './structure';
export { decodeBytes, decodeHeaderValue, decodeQuotedPrintable } from './decode';
export { decodeBody, searchableText, textOf } from './part-text';
export { casemap, foldText } from './fold';
export { baseSubject, sortKeysOf, type SortKeys } from './sort-keys';
export { binaryContent, encodeBinaryParts, type BinaryContent } from './binary';
export { messagePreview, PREVIEW_LENGTH } from './preview';
