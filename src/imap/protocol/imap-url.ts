// IMAP URLs (RFC 5092) naming one message or part, as CATENATE (RFC 4469 section 3) takes them:
//   /INBOX;UIDVALIDITY=1234/;UID=20/;SECTION=1.2/;PARTIAL=0.1024        (absolute path)
//   imap://jean.dupont@hopital.fr@mx.example.fr/INBOX/;UID=20           (absolute URL)
// Parameter names are case-insensitive; the mailbox and user are %-encoded (RFC 3986). URLAUTH
// (RFC 4467) is not supported: a URL carrying ;URLAUTH= or ;EXPIRE= is refused by the caller.
// Pure parsing: which mailbox the name designates and whether the user may read it is decided by
// the caller with the store (commands/catenate.ts).
import { decodeMailboxName } from './encode';
import { parseSectionText, type Partial, type Section } from './fetch-items';

export interface MessageUrl {
  /** Host of an absolute URL (lower case); null for an absolute path ("/INBOX/;UID=1"). */
  host: string | null;
  /** The user of an absolute URL (decoded); null when absent. */
  user: string | null;
  /** Mailbox name (Unicode). */
  mailbox: string;
  uidValidity: number | null;
  uid: number;
  section: Section | null;
  partial: Partial | null;
}

/** Why a URL is refused (the caller answers NO [BADURL url]). */
export class UrlError extends Error {}

const NUMBER = /^[1-9][0-9]{0,9}$/;

function percentDecode(text: string): string {
  try {
    return Buffer.from(decodeURIComponent(text), 'utf8').toString('utf8');
  } catch {
    throw new UrlError('Invalid %-encoding');
  }
}

function number(text: string, what: string): number {
  if (!NUMBER.test(text) || Number(text) > 0xffffffff) throw new UrlError(`Invalid ${what}: ${text.slice(0, 20)}`);
  return Number(text);
}

/**
 * The mailbox of an IMAP URL: RFC 5092 writes it in UTF-8, %-encoded; RFC 2192 clients sent the
 * modified UTF-7 name. An ASCII name that is valid modified UTF-7 is read as such.
 */
function mailboxName(encoded: string): string {
  const name = percentDecode(encoded);
  if (name === '') throw new UrlError('The URL names no mailbox');
  // eslint-disable-next-line no-control-regex
  if (/^[\x20-\x7e]*$/.test(name) && name.includes('&')) return decodeMailboxName(name) ?? name;
  return name;
}

export function parseMessageUrl(url: string): MessageUrl {
  let rest = url;
  let host: string | null = null;
  let user: string | null = null;
  const absolute = /^imap:\/\/([^/]*)(\/.*)$/i.exec(url);
  if (absolute) {
    // iserver = [iuserinfo "@"] host [":" port]; the user may itself hold "@" (%-encoded or not)
    const authority = absolute[1];
    const at = authority.lastIndexOf('@');
    const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
    host = hostPort.replace(/:[0-9]+$/, '').toLowerCase();
    if (at >= 0) user = percentDecode(authority.slice(0, at).replace(/;AUTH=.*$/i, ''));
    rest = absolute[2];
  } else if (!url.startsWith('/') || url.startsWith('//')) {
    throw new UrlError('Only absolute IMAP URLs and absolute paths are accepted');
  }
  const segments = rest.slice(1).split('/;');
  const [mailboxSegment, ...parameters] = segments;
  const validity = /^(.*);UIDVALIDITY=([^;/]*)$/i.exec(mailboxSegment);
  const mailbox = mailboxName(validity ? validity[1] : mailboxSegment);
  const uidValidity = validity ? number(validity[2], 'UIDVALIDITY') : null;
  let uid: number | null = null;
  let section: Section | null = null;
  let partial: Partial | null = null;
  for (const parameter of parameters) {
    const eq = parameter.indexOf('=');
    const name = (eq < 0 ? parameter : parameter.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? '' : parameter.slice(eq + 1);
    if (name === 'UID' && uid === null && section === null) {
      uid = number(value, 'UID');
    } else if (name === 'SECTION' && uid !== null && section === null && partial === null) {
      try {
        section = parseSectionText(percentDecode(value));
      } catch {
        throw new UrlError(`Invalid section: ${value.slice(0, 40)}`);
      }
    } else if (name === 'PARTIAL' && uid !== null && partial === null) {
      const match = /^([0-9]{1,10})(?:\.([1-9][0-9]{0,9}))?$/.exec(value);
      if (!match) throw new UrlError(`Invalid partial: ${value.slice(0, 20)}`);
      partial = { origin: Number(match[1]), count: match[2] ? Number(match[2]) : Number.MAX_SAFE_INTEGER };
    } else {
      throw new UrlError(`Unsupported URL part ;${name.slice(0, 20)} (no URLAUTH here)`);
    }
  }
  if (uid === null) throw new UrlError('The URL names no message (;UID= is missing)');
  return { host, user, mailbox, uidValidity, uid, section, partial };
}
