// APPEND (RFC 3501 section 6.3.11) with APPENDUID (RFC 4315 section 3) and MULTIAPPEND (RFC 3502):
// one or more messages the client uploads (sent copies, drafts), each with optional flags and
// INTERNALDATE. Several messages are stored in one transaction, all or none (RFC 3502 section
// 6.3.11), and APPENDUID then names their UIDs as a set. Each literal is bounded by APPENDLIMIT =
// limits.maxMessageBytes (RFC 7889): the reader refuses a larger one before it is sent. A message
// appended to the selected mailbox reaches this session as EXISTS (dispatch's flushUpdates) and
// other sessions at once (IDLE) or at their next command.
// CATENATE (RFC 4469): a message may instead be built from TEXT literals and IMAP URLs
// (commands/catenate.ts), alone or within MULTIAPPEND.
// BINARY (RFC 3516 section 4.3): a message may come as literal8 "~{n}"; its parts that hold NUL
// octets are stored base64-encoded (src/mime/binary.ts), so BODY[...] stays a valid literal and
// BINARY[...] gives the original octets back.
import { encodeBinaryParts } from '../../mime';
import { immediateTransaction } from '../../store/database';
import { appendManyToMailbox, claimRecent, prepareAppend, type AppendInput } from '../../store/imap-messages';
import { commitWrite } from '../store-writes';
import { parseDateTime } from '../protocol/dates';
import { badSyntax, ImapError } from '../protocol/errors';
import { parseFlagList } from '../protocol/flags';
import { formatSequenceSet } from '../protocol/sequence';
import { describeToken, expectAstring, isWord, type Token } from '../protocol/tokens';
import { catenate, type CatPart } from './catenate';
import { announceChange, destinationMailbox, isCompletion, mailboxRefusal, quotaRefusal } from './message-common';
import { AUTHENTICATED, no, ok, type CommandHandler } from './registry';

/** At most this many messages in one MULTIAPPEND (each literal is bounded on its own). */
export const MAX_MULTIAPPEND = 1000;

/** At most this many TEXT and URL parts in one CATENATE. */
export const MAX_CAT_PARTS = 1000;

/** One message of the command: uploaded whole, or built by CATENATE (RFC 4469) once the destination is known. */
interface AppendItem {
  raw: Buffer | null;
  parts: CatPart[] | null;
  flags: string[];
  internalDate?: number;
}

/** catenate = "CATENATE" SP "(" cat-part *(SP cat-part) ")", cat-part = "TEXT" SP literal / "URL" SP astring (RFC 4469 section 5). */
function parseCatParts(token: Token | undefined): CatPart[] {
  if (token?.type !== 'list' || token.items.length === 0) throw badSyntax(`CATENATE needs a list of TEXT and URL parts, got ${describeToken(token)}`);
  const parts: CatPart[] = [];
  for (let i = 0; i < token.items.length; i += 2) {
    const [kind, value] = [token.items[i], token.items[i + 1]];
    if (isWord(kind, 'TEXT') && value?.type === 'literal') {
      parts.push({ kind: 'text', data: value.binary ? encodeBinaryParts(value.value) : value.value });
    } else if (isWord(kind, 'URL')) {
      parts.push({ kind: 'url', url: expectAstring(value, 'an IMAP URL') });
    } else {
      throw badSyntax(`CATENATE parts are TEXT literal or URL "imap-url", got ${describeToken(kind)}`);
    }
    if (parts.length > MAX_CAT_PARTS) throw new ImapError('NO', `At most ${MAX_CAT_PARTS} parts in one CATENATE`, 'LIMIT');
  }
  return parts;
}

/**
 * append-message *(SP append-message), append-message = [flag-list SP] [date-time SP] append-data,
 * append-data = literal / literal8 / "CATENATE" SP "(" ... ")" (RFC 3502, RFC 4469 section 5).
 */
function parseMessages(args: readonly Token[]): AppendItem[] {
  const messages: AppendItem[] = [];
  let position = 1;
  do {
    let flags: string[] = [];
    let internalDate: number | undefined;
    if (args[position]?.type === 'list') flags = parseFlagList(args[position++]);
    const dateToken = args[position];
    if (dateToken?.type === 'string') {
      const date = parseDateTime(dateToken.value);
      if (!date) throw badSyntax(`Invalid date-time: ${dateToken.value.slice(0, 40)}`);
      internalDate = date.getTime();
      position++;
    }
    const message = args[position++];
    if (isWord(message, 'CATENATE')) {
      messages.push({ raw: null, parts: parseCatParts(args[position++]), flags, internalDate });
    } else if (message?.type === 'literal') {
      messages.push({ raw: message.binary ? encodeBinaryParts(message.value) : message.value, parts: null, flags, internalDate });
    } else {
      throw badSyntax(`APPEND needs the message as a literal or CATENATE (...), got ${describeToken(message)}`);
    }
    if (messages.length > MAX_MULTIAPPEND) throw new ImapError('NO', `At most ${MAX_MULTIAPPEND} messages in one APPEND`, 'LIMIT');
  } while (position < args.length);
  return messages;
}

export const append: CommandHandler = {
  name: 'APPEND',
  states: AUTHENTICATED,
  async run(session, command) {
    const items = parseMessages(command.args);
    const limit = session.config.limits.maxMessageBytes;
    for (const item of items) if (item.raw && item.raw.length > limit) return no(`The message is larger than the limit of ${limit} octets`, 'TOOBIG');

    const destination = destinationMailbox(session, command.args[0]);
    if (isCompletion(destination)) return destination; // [TRYCREATE] before any URL is looked at (RFC 4469 section 5)
    // CATENATE: the URLs are resolved now, for this person only; NO [BADURL] or [TOOBIG] stores nothing
    const messages: AppendInput[] = items.map((item) => ({
      raw: item.raw ?? catenate(session, item.parts!, limit),
      flags: item.flags,
      internalDate: item.internalDate,
    }));
    for (const message of messages) if (message.raw.length === 0) return no('An empty message cannot be stored', 'CANNOT');
    const overQuota = quotaRefusal(session, destination.ownerAccountId, {
      bytes: messages.reduce((total, message) => total + message.raw.length, 0),
      messages: messages.length,
    });
    if (overQuota) return overQuota;
    // Appending to the mailbox it has selected, this session is the first one told of the new
    // messages (RFC 3501 section 2.3.2): it claims their \Recent in the same commit, instead of a
    // second write for that bookkeeping when it next synchronises.
    const selected = session.selected;
    const claimer = selected && !selected.readOnly && selected.mailboxId === destination.mailboxId ? selected : null;
    let claimed: number[] = [];
    let appended;
    try {
      const prepared = messages.map(prepareAppend); // parsed before the write lock is taken
      appended = await commitWrite(session, (db) =>
        immediateTransaction(db, () => {
          const stored = appendManyToMailbox(db, destination.mailboxId, prepared);
          if (claimer) claimed = claimRecent(db, destination.mailboxId);
          return stored;
        }),
      );
    } catch (err) {
      return mailboxRefusal(err);
    }
    claimer?.noteClaimedRecent(claimed);
    announceChange(session, destination.mailboxId);
    const uids = formatSequenceSet(appended.map((message) => message.uid));
    return ok('APPEND completed', `APPENDUID ${appended[0].uidValidity} ${uids}`);
  },
};
