// What the mailbox commands (SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
// LIST, LSUB, STATUS) share: reading a mailbox name from the wire (an astring in modified UTF-7,
// RFC 3501 section 5.1.3), turning a store refusal (MailboxError) into a tagged NO with its
// RFC 5530 response code, and response text a user can read.
//
// Response text stays 7-bit (RFC 3501 section 9: text is TEXT-CHAR, US-ASCII): a mailbox name
// is shown with its accents removed ("Envoyés" → "Envoyes"), which reads better in the alert
// box of Outlook or Thunderbird than its modified UTF-7 spelling ("Envoy&AOk-s"); README
// "Client quirks".
import { MailboxError, SHARED_ROOT } from '../../store/mailbox-view';
import { decodeMailboxName, encodeMailboxName } from '../protocol/encode';
import { ImapError } from '../protocol/errors';
import { expectAstring, type Token } from '../protocol/tokens';
import { no, type Completion } from './registry';

export interface MailboxArgument {
  /** The name as the client sent it (modified UTF-7), for echoing back (STATUS). */
  wire: string;
  /** The Unicode name the store works with. */
  name: string;
}

/**
 * A mailbox name argument: an astring that must be valid modified UTF-7. A name that is not
 * (raw 8-bit, a broken "&...-" shift) is refused with NO [CANNOT]: it is well-formed IMAP syntax
 * but names nothing this server can hold.
 */
export function mailboxArgument(token: Token | undefined, what = 'mailbox name'): MailboxArgument {
  const wire = expectAstring(token, what);
  const name = decodeMailboxName(wire);
  if (name === null) {
    throw new ImapError(
      'NO',
      `${capitalise(what)} ${JSON.stringify(asciiText(wire).slice(0, 80))} is not valid modified UTF-7 (RFC 3501 section 5.1.3): ` +
        'non-ASCII letters must be encoded, e.g. &AOk- for an e with an acute accent',
      'CANNOT',
    );
  }
  return { wire, name };
}

/** `text` in printable US-ASCII: accents dropped, anything else that is not ASCII becomes "?". */
export function asciiText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[\r\n]+/g, ' ')
    .replace(/[^\x20-\x7e]/gu, '?');
}

/**
 * A mailbox name for response text: quoted, in ASCII; when accents had to go, the exact name
 * follows as the client spells it ("Corbeille" and "Corbeillé" must not read the same).
 */
export function displayName(name: string): string {
  const ascii = asciiText(name).replace(/"/g, "'");
  if (ascii === name) return `"${shorten(ascii)}"`;
  return `"${shorten(ascii)}" (${shorten(encodeMailboxName(name).replace(/"/g, "'"))})`;
}

/** Long names are cut in messages: a line of text is for a person to read. */
function shorten(text: string): string {
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Whether a view name lies in the shared namespace (an ORG box, R6). */
export function isSharedName(name: string): boolean {
  return name.split('/')[0].toLowerCase() === SHARED_ROOT.toLowerCase();
}

/** The NO for a name that resolves to nothing the person may open (never says which case). */
export function nonexistent(name: string): Completion {
  const shared = isSharedName(name) ? ' or is not shared with you' : '';
  return no(`Mailbox ${displayName(name)} does not exist${shared}`, 'NONEXISTENT');
}

/**
 * The tagged NO for a store refusal, with the RFC 5530 code the store chose; rethrows anything
 * that is not a MailboxError (a bug, answered NO [SERVERBUG] by dispatch).
 */
export function refusal(err: unknown, name: string): Completion {
  if (!(err instanceof MailboxError)) throw err;
  switch (err.code) {
    case 'NONEXISTENT':
      if (err.message === 'no such mailbox') return nonexistent(name);
      return no(`${capitalise(asciiText(err.message))} (${displayName(name)})`, 'NONEXISTENT');
    case 'ALREADYEXISTS':
      if (err.message === 'mailbox already exists' || err.message === 'target mailbox already exists') {
        return no(`A mailbox named ${displayName(name)} already exists`, 'ALREADYEXISTS');
      }
      return no(`${capitalise(asciiText(err.message))}`, 'ALREADYEXISTS');
    case 'CANNOT':
      if (err.message === 'invalid mailbox name') {
        return no(
          `${displayName(name)} is not a valid mailbox name: no empty level or "//", no leading or trailing space in a level, ` +
            'no "%" or "*", at most 255 characters and 16 levels',
          'CANNOT',
        );
      }
      if (err.message === 'mailbox name too long') {
        return no(`${displayName(name)} is too long for a mailbox name: at most 255 characters and 16 levels`, 'CANNOT');
      }
      return no(`${capitalise(asciiText(err.message))}`, 'CANNOT');
    case 'NOPERM':
      return no(`${capitalise(asciiText(err.message))}`, 'NOPERM');
    case 'LIMIT':
      return no(`Too many mailboxes: ${asciiText(err.message)}; delete some folders first`, 'LIMIT');
  }
}
