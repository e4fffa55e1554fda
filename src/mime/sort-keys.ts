// What SORT and THREAD compare (RFC 5256, RFC 5957), computed once from a message's header
// fields when its body is stored (src/store/search-index.ts) and kept beside the search index.
import { parseMessageDate } from './date';
import { decodeHeaderValue } from './decode';
import { parseAddressList, type Address } from './envelope';
import { casemap } from './fold';
import { getHeader, type HeaderField } from './headers';

export interface SortKeys {
  /** RFC 5256 section 2.1 base subject, case-mapped (i;unicode-casemap). */
  baseSubject: string;
  /** Whether extracting the base subject removed a Re:, Fwd:, [fwd: …] or (fwd) (section 3, step 5). */
  replyOrForward: boolean;
  /** Case-mapped addr-mailbox of the first From / To / Cc address ("" when none), section 3. */
  from: string;
  to: string;
  cc: string;
  /** RFC 5957 display strings of the first From / To address, case-mapped. */
  displayFrom: string;
  displayTo: string;
  /** Instant of the Date: field in ms, null when missing or unreadable (the internal date then stands in). */
  sentDate: number | null;
  /** Message-ID without brackets, or null. */
  messageId: string | null;
  /** References (else the first In-Reply-To id), without brackets, oldest first. */
  references: string[];
}

/** Longest subject looked at: base subjects are sort keys, not content. */
const MAX_SUBJECT = 1000;
/** At most this many references are followed (a thread deeper than that is cut at its top). */
const MAX_REFERENCES = 200;

const TRAILER = /(?:[ \t]|\(fwd\))+$/i;
// subj-leader: *subj-blob subj-refwd, subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
const REFWD = /^(?:\[[^[\]]*\][ \t]*)*(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:/i;
const BLOB = /^\[[^[\]]*\][ \t]*/;

/** RFC 5256 section 2.1 base subject of a decoded subject, and whether it was a reply/forward. */
export function baseSubject(subject: string): { base: string; replyOrForward: boolean } {
  let text = subject.slice(0, MAX_SUBJECT).replace(/[\t\r\n ]+/g, ' '); // (1) whitespace runs → one space
  let replyOrForward = false;
  for (;;) {
    // (2) trailers: "(fwd)" and whitespace
    const trailer = TRAILER.exec(text);
    if (trailer) {
      if (/\(fwd\)/i.test(trailer[0])) replyOrForward = true;
      text = text.slice(0, trailer.index);
    }
    // (3)-(5) leaders: whitespace, subj-refwd (with blobs before it), a blob that leaves text
    for (;;) {
      const before = text;
      text = text.replace(/^[ \t]+/, '');
      const refwd = REFWD.exec(text);
      if (refwd) {
        text = text.slice(refwd[0].length);
        replyOrForward = true;
      } else {
        const blob = BLOB.exec(text);
        if (blob && text.length > blob[0].length && text.slice(blob[0].length).trim() !== '') text = text.slice(blob[0].length);
      }
      if (text === before) break;
    }
    // (6) subj-fwd-hdr "[fwd:" … subj-fwd-trl "]"
    if (/^\[fwd:/i.test(text) && text.endsWith(']')) {
      text = text.slice(5, -1);
      replyOrForward = true;
      continue;
    }
    break;
  }
  return { base: casemap(text), replyOrForward };
}

function firstAddress(fields: readonly HeaderField[], key: string): Address | null {
  const value = getHeader(fields, key);
  if (value === null) return null;
  return parseAddressList(value.slice(0, 4096))[0] ?? null;
}

/** RFC 5957 section 3: display-name if any, else the addr-spec; a group's name for a group. */
function display(address: Address | null): string {
  if (!address) return '';
  const name = address.name === null ? '' : decodeHeaderValue(address.name).trim();
  if (name !== '') return casemap(name);
  const mailbox = address.mailbox ?? '';
  return casemap(address.host ? `${mailbox}@${address.host}` : mailbox);
}

/** Message ids in a References / In-Reply-To value: `<…>` groups, brackets removed. */
function messageIds(value: string | null): string[] {
  if (value === null) return [];
  const ids: string[] = [];
  for (const match of value.matchAll(/<([^<>\s]+)>/g)) ids.push(match[1]);
  return ids;
}

function messageIdOf(fields: readonly HeaderField[]): string | null {
  return messageIds(getHeader(fields, 'message-id'))[0] ?? null;
}

export function sortKeysOf(fields: readonly HeaderField[]): SortKeys {
  const subject = getHeader(fields, 'subject');
  const { base, replyOrForward } = baseSubject(subject === null ? '' : decodeHeaderValue(subject));
  const from = firstAddress(fields, 'from');
  const to = firstAddress(fields, 'to');
  const cc = firstAddress(fields, 'cc');
  const date = getHeader(fields, 'date');
  // RFC 5256 section 3 REFERENCES (1)(A): References, else the first id of In-Reply-To
  let references = messageIds(getHeader(fields, 'references'));
  if (references.length === 0) references = messageIds(getHeader(fields, 'in-reply-to')).slice(0, 1);
  return {
    baseSubject: base,
    replyOrForward,
    from: casemap(from?.mailbox ?? ''),
    to: casemap(to?.mailbox ?? ''),
    cc: casemap(cc?.mailbox ?? ''),
    displayFrom: display(from),
    displayTo: display(to),
    sentDate: date === null ? null : parseMessageDate(date),
    messageId: messageIdOf(fields),
    references: references.slice(-MAX_REFERENCES),
  };
}
