// CATENATE (RFC 4469): APPEND builds a message from TEXT literals and IMAP URLs (RFC 5092) to
// messages or parts this same person can read on this server. A URL is resolved with the same
// mailbox resolution as SELECT and APPEND (resolveMailbox: the person's own mailboxes and the ORG
// boxes linked to them, R6), so no other account's mail is ever reachable; the octets come from
// FETCH's own section extraction (protocol/sections.ts) over the structure cached at ingest.
// Anything else (another host or user, a wrong UIDVALIDITY, a missing message, URLAUTH) is
// NO [BADURL url] (RFC 4469 section 6).
import { fetchMessages } from '../../store/imap-messages';
import { resolveMailbox } from '../../store/mailbox-view';
import { readBody } from '../../store/messages';
import type { MimePart } from '../../mime';
import { ImapError } from '../protocol/errors';
import { parseMessageUrl, UrlError } from '../protocol/imap-url';
import { applyPartial, sectionContent } from '../protocol/sections';
import type { ImapSession } from '../session';

/** One cat-part (RFC 4469 section 5): TEXT literal or URL. */
export type CatPart = { kind: 'text'; data: Buffer } | { kind: 'url'; url: string };

/** NO [BADURL url] (RFC 4469 section 6: the URL as sent, without "]" which would end the code). */
export function badUrl(url: string, why: string): ImapError {
  return new ImapError('NO', `${why}; CATENATE takes URLs to messages you can read on this server`, `BADURL ${url.replace(/[\]\r\n]/g, '')}`);
}

/** The octets a URL designates, for this session's person only. */
export function urlContent(session: ImapSession, url: string): Buffer {
  const user = session.user;
  if (!user) throw badUrl(url, 'Not logged in');
  let parsed;
  try {
    parsed = parseMessageUrl(url);
  } catch (err) {
    if (err instanceof UrlError) throw badUrl(url, err.message);
    throw err;
  }
  if (parsed.host !== null && parsed.host !== session.config.hostname.toLowerCase()) throw badUrl(url, 'The URL names another server');
  if (parsed.user !== null && parsed.user.toLowerCase() !== user.login.toLowerCase()) throw badUrl(url, 'The URL names another user');
  const mailbox = resolveMailbox(session.db, user.accountId, parsed.mailbox);
  if (!mailbox) throw badUrl(url, 'No such mailbox');
  if (parsed.uidValidity !== null && parsed.uidValidity !== mailbox.uidValidity) throw badUrl(url, 'The mailbox UIDVALIDITY differs');
  const [row] = fetchMessages(session.db, mailbox.mailboxId, [parsed.uid]);
  const raw = row ? readBody(session.db, row.bodyHash) : undefined;
  if (!row || !raw) throw badUrl(url, 'No such message');
  const structure = JSON.parse(row.structureJson) as MimePart;
  const content = parsed.section ? sectionContent(raw, structure, parsed.section) : raw.subarray(structure.headerStart, structure.end);
  return applyPartial(content, parsed.partial);
}

/**
 * The message the parts make, in order. Stops with NO [TOOBIG] as soon as it grows past `limit`
 * (RFC 4469 section 6), before reading further URLs.
 */
export function catenate(session: ImapSession, parts: readonly CatPart[], limit: number): Buffer {
  const pieces: Buffer[] = [];
  let size = 0;
  for (const part of parts) {
    const piece = part.kind === 'text' ? part.data : urlContent(session, part.url);
    size += piece.length;
    if (size > limit) throw new ImapError('NO', `The message is larger than the limit of ${limit} octets`, 'TOOBIG');
    pieces.push(piece);
  }
  return Buffer.concat(pieces);
}
