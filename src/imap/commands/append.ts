// APPEND (RFC 3501 section 6.3.11) with APPENDUID (RFC 4315 section 3): a message the client
// uploads (a sent copy, a draft), with optional flags and INTERNALDATE. The literal is bounded by
// APPENDLIMIT = limits.maxMessageBytes (RFC 7889): the reader refuses a larger one before it is
// sent. A message appended to the selected mailbox reaches this session as EXISTS (dispatch's
// flushUpdates) and other sessions at once (IDLE) or at their next command.
import { appendToMailbox } from '../../store/imap-messages';
import { parseDateTime } from '../protocol/dates';
import { badSyntax } from '../protocol/errors';
import { parseFlagList } from '../protocol/flags';
import { describeToken } from '../protocol/tokens';
import { announceChange, destinationMailbox, isCompletion, mailboxRefusal } from './message-common';
import { AUTHENTICATED, no, ok, type CommandHandler } from './registry';

export const append: CommandHandler = {
  name: 'APPEND',
  states: AUTHENTICATED,
  run(session, command) {
    const args = command.args;
    // append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal
    let position = 1;
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
    const message = args[position];
    if (message?.type !== 'literal') throw badSyntax(`APPEND needs the message as a literal, got ${describeToken(message)}`);
    if (args.length > position + 1) throw badSyntax(`Unexpected argument: ${describeToken(args[position + 1])}`);
    const raw = message.value;
    const limit = session.config.limits.maxMessageBytes;
    if (raw.length > limit) return no(`The message is larger than the limit of ${limit} octets`, 'TOOBIG');
    if (raw.length === 0) return no('An empty message cannot be stored', 'CANNOT');

    const destination = destinationMailbox(session, args[0]);
    if (isCompletion(destination)) return destination;
    let appended;
    try {
      appended = appendToMailbox(session.db, destination.mailboxId, raw, flags, internalDate);
    } catch (err) {
      return mailboxRefusal(err);
    }
    announceChange(session, destination.mailboxId);
    return ok('APPEND completed', `APPENDUID ${appended.uidValidity} ${appended.uid}`);
  },
};
