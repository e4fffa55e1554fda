// The mailbox the message-command tests work on: Jean's INBOX with a multipart message (1), a
// \Flagged one (2) and a \Seen one with a keyword (3), built with the real store functions.
import pino from 'pino';
import type { TapTest } from '../../helpers/tap';
import { Authenticator } from '../../../src/auth/authenticator';
import { loadConfig } from '../../../src/config/load';
import { IdleWatchers } from '../../../src/imap/idle-watchers';
import type { ImapServices } from '../../../src/imap/session';
import type { Db } from '../../../src/store/database';
import { MailboxChanges } from '../../../src/store/mailbox-changes';
import { ConnectionLimiter } from '../../../src/util/connection-limits';
import { hashPassword } from '../../../src/policy/password';
import { updateAccountSettings } from '../../../src/store/accounts';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';

export const MULTIPART = Buffer.from(
  [
    'From: =?utf-8?q?Dr_=C3=89mile_Peer?= <emile@chu.mssante.fr>',
    'To: Jean Dupont <jean.dupont@x.mssante.fr>',
    'Subject: =?utf-8?q?R=C3=A9sultats_d=27analyse?=',
    'Date: Mon, 1 Jun 2026 10:00:00 +0200',
    'Message-ID: <multi.1@chu.mssante.fr>',
    'X-MSS-INS: 180017512345678',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    'preamble',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Cr=C3=A9atinine normale, h=C3=A9moglobine basse.',
    '--b1',
    'Content-Type: application/pdf; name="cr.pdf"',
    'Content-Disposition: attachment; filename="cr.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjQK',
    '--b1--',
    '',
  ].join('\r\n'),
);

export function simple(subject: string, body: string, messageId: string): Buffer {
  return Buffer.from(
    [
      'From: Secretariat <secretariat@hopital.fr>',
      'To: Jean Dupont <jean.dupont@x.mssante.fr>',
      `Subject: ${subject}`,
      'Date: Tue, 2 Jun 2026 09:00:00 +0000',
      `Message-ID: <${messageId}>`,
      '',
      body,
      '',
    ].join('\r\n'),
  );
}

export function world(t: TapTest) {
  const w = freshWorld(t);
  const inbox = mailboxId(w.db, w.jean, 'INBOX');
  appendToMailbox(w.db, inbox, MULTIPART, [], Date.UTC(2026, 5, 1, 8));
  appendToMailbox(w.db, inbox, simple('Rendez-vous', 'Demain 10h', 'rdv.2@hopital.fr'), ['\\Flagged'], Date.UTC(2026, 5, 2, 9));
  appendToMailbox(w.db, inbox, simple('Planning', 'Garde du week-end', 'planning.3@hopital.fr'), ['\\Seen', '$label1'], Date.UTC(2026, 5, 3, 9));
  return { ...w, inbox };
}


/** Jean's password, for the commands that log in (LOGIN, AUTHENTICATE). */
export const JEAN_PASSWORD = 'Mot-de-passe-de-Jean-1';

/** The same world with a password for Jean and the real password check (src/auth). */
export async function loginWorld(t: TapTest) {
  const w = freshWorld(t);
  updateAccountSettings(w.db, 'jean.dupont@hopital.fr', { passwordHash: await hashPassword(JEAN_PASSWORD) });
  const authenticator = new Authenticator(w.db, pino({ level: 'silent' }));
  return { ...w, authenticator };
}

/**
 * The services an ImapConnection gets from the daemon, real ones around a login world's store,
 * for tests that serve it over loopback; `extra` adds or replaces some (a group commit, shared
 * IDLE watchers).
 */
export function loopbackServices(world: { db: Db; authenticator: Authenticator }, extra: Partial<ImapServices> = {}): ImapServices {
  return {
    config: loadConfig(),
    db: world.db,
    log: pino({ level: 'silent' }),
    authenticator: world.authenticator,
    changes: new MailboxChanges(),
    accountSessions: new ConnectionLimiter(100),
    idleWatchers: new IdleWatchers(),
    ...extra,
  };
}
