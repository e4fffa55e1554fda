// APPEND (RFC 3501 section 6.3.11) with APPENDUID (RFC 4315 section 3) and MULTIAPPEND (RFC 3502):
// one or more messages the client uploads (sent copies, drafts), each with optional flags and
// INTERNALDATE. Several messages are stored in one transaction, all or none (RFC 3502 section
// 6.3.11), and APPENDUID then names their UIDs as a set. Each literal is bounded by APPENDLIMIT =
// limits.maxMessageBytes (RFC 7889): the reader refuses a larger one before it is sent. A message
// appended to the selected mailbox reaches this session as EXISTS (dispatch's flushUpdates) and
// other sessions at once (IDLE) or at their next command.
// BINARY (RFC 3516 section 4.3): a message may come as literal8 "~{n}"; its parts that hold NUL
// octets are stored base64-encoded (src/mime/binary.ts), so BODY[...] stays a valid literal and
// BINARY[...] gives the original octets back.
import { encodeBinaryParts } from '../../mime';
import { appendManyToMailbox, type AppendInput } from '../../store/imap-messages';
import { commitWrite } from '../store-writes';
import { parseDateTime } from '../protocol/dates';
import { badSyntax, ImapError } from '../protocol/errors';
import { parseFlagList } from '../protocol/flags';
import { formatSequenceSet } from '../protocol/sequence';
import { describeToken, type Token } from '../protocol/tokens';
import { announceChange, destinationMailbox, isCompletion, mailboxRefusal, quotaRefusal } from './message-common';
import { AUTHENTICATED, no, ok, type CommandHandler } from './registry';

/** At most this many messages in one MULTIAPPEND (each literal is bounded on its own). */
export const MAX_MULTIAPPEND = 1000;

/** append-message *(SP append-message), append-message = [flag-list SP] [date-time SP] literal. */
function parseMessages(args: readonly Token[]): AppendInput[] {
  const messages: AppendInput[] = [];
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
    if (message?.type !== 'literal') throw badSyntax(`APPEND needs the message as a literal, got ${describeToken(message)}`);
    messages.push({ raw: message.binary ? encodeBinaryParts(message.value) : message.value, flags, internalDate });
    if (messages.length > MAX_MULTIAPPEND) throw new ImapError('NO', `At most ${MAX_MULTIAPPEND} messages in one APPEND`, 'LIMIT');
  } while (position < args.length);
  return messages;
}

export const append: CommandHandler = {
  name: 'APPEND',
  states: AUTHENTICATED,
  async run(session, command) {
    const messages = parseMessages(command.args);
    const limit = session.config.limits.maxMessageBytes;
    for (const message of messages) {
      if (message.raw.length > limit) return no(`The message is larger than the limit of ${limit} octets`, 'TOOBIG');
      if (message.raw.length === 0) return no('An empty message cannot be stored', 'CANNOT');
    }

    const destination = destinationMailbox(session, command.args[0]);
    if (isCompletion(destination)) return destination;
    const overQuota = quotaRefusal(session, destination.ownerAccountId, {
      bytes: messages.reduce((total, message) => total + message.raw.length, 0),
      messages: messages.length,
    });
    if (overQuota) return overQuota;
    let appended;
    try {
      appended = await commitWrite(session, (db) => appendManyToMailbox(db, destination.mailboxId, messages));
    } catch (err) {
      return mailboxRefusal(err);
    }
    announceChange(session, destination.mailboxId);
    const uids = formatSequenceSet(appended.map((message) => message.uid));
    return ok('APPEND completed', `APPENDUID ${appended[0].uidValidity} ${uids}`);
  },
};
