// FETCH keeps ENVELOPE, BODY, BODYSTRUCTURE and top-level header sections between commands
// (src/imap/fetch-cache.ts): what it serves from there must be, byte for byte, what rendering the
// stored message gives, and never another message's data.
import t from 'tap';
import type { Envelope, MimePart } from '../../../src/mime';
import { clearFetchCaches } from '../../../src/imap/fetch-cache';
import { bodyStructure, envelope } from '../../../src/imap/protocol/encode';
import { parseFetchArguments, type BodySectionItem } from '../../../src/imap/protocol/fetch-items';
import { fetchSection } from '../../../src/imap/protocol/sections';
import { appendToMailbox, fetchMessages } from '../../../src/store/imap-messages';
import { readBody } from '../../../src/store/messages';
import type { Db } from '../../../src/store/database';
import { mailboxId } from '../../store/imap-fixtures';
import { argsOf } from '../protocol/helpers';
import { testSession } from './harness';
import { simple, world } from './messages-world';

/** `* n FETCH (ITEM text)` lines built straight from the stored JSON and octets, without FETCH. */
function rendered(db: Db, mailbox: number, uids: number[], item: 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE'): string {
  return fetchMessages(db, mailbox, uids)
    .map((row, i) => {
      const text =
        item === 'ENVELOPE'
          ? envelope(JSON.parse(row.envelopeJson) as Envelope)
          : bodyStructure(JSON.parse(row.structureJson) as MimePart, item === 'BODYSTRUCTURE');
      return `* ${i + 1} FETCH (${item} ${text})\r\n`;
    })
    .join('');
}

function section(db: Db, mailbox: number, uids: number[], spec: string): string {
  const item = parseFetchArguments(argsOf(`(${spec})`), { uid: false }).items[0] as BodySectionItem;
  return fetchMessages(db, mailbox, uids)
    .map((row, i) => {
      const data = fetchSection(readBody(db, row.bodyHash) as Buffer, JSON.parse(row.structureJson) as MimePart, item);
      return `* ${i + 1} FETCH (${item.responseName} {${data.length}}\r\n${data.toString('latin1')})\r\n`;
    })
    .join('');
}

t.test('ENVELOPE, BODY, BODYSTRUCTURE and header sections: the same bytes cold, kept, and rendered from the store', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  const uids = [1, 2, 3];
  for (const item of ['ENVELOPE', 'BODY', 'BODYSTRUCTURE'] as const) {
    clearFetchCaches();
    const expected = `${rendered(db, inbox, uids, item)}TAG OK FETCH completed\r\n`;
    t.equal(await a.run(`FETCH 1:3 ${item}`), expected, `${item}, nothing kept yet`);
    t.equal(await a.run(`FETCH 1:3 ${item}`), expected, `${item}, kept from the FETCH before`);
  }
  for (const spec of ['BODY.PEEK[HEADER.FIELDS (From Subject)]', 'BODY.PEEK[HEADER.FIELDS.NOT (To Date)]<4.30>', 'BODY.PEEK[HEADER]']) {
    clearFetchCaches();
    const expected = `${section(db, inbox, uids, spec)}TAG OK FETCH completed\r\n`;
    t.equal(await a.run(`FETCH 1:3 (${spec})`), expected, `${spec}, nothing kept yet`);
    t.equal(await a.run(`FETCH 1:3 (${spec})`), expected, `${spec}, kept from the FETCH before`);
  }
  // the items mixed, in other orders, after the caches were filled by single items
  const mixed = await a.run('FETCH 1:3 (BODYSTRUCTURE UID ENVELOPE BODY.PEEK[HEADER.FIELDS (From Subject)] BODY)');
  clearFetchCaches();
  t.equal(await a.run('FETCH 1:3 (BODYSTRUCTURE UID ENVELOPE BODY.PEEK[HEADER.FIELDS (From Subject)] BODY)'), mixed, 'mixed items: kept and cold agree');
  t.match(mixed, /^\* 1 FETCH \(BODYSTRUCTURE \(\("TEXT" "PLAIN".* UID 1 ENVELOPE \("Mon, 1 Jun 2026.* BODY\[HEADER\.FIELDS \(From Subject\)\] \{\d+\}\r\nFrom: .* BODY \(\("TEXT"/s);
  // INTERNALDATE and RFC822.SIZE come with what is kept: the same as read from the store
  const keyed = 'FETCH 1:3 (ENVELOPE INTERNALDATE RFC822.SIZE)';
  const kept = await a.run(keyed);
  clearFetchCaches();
  t.equal(await a.run(keyed), kept, 'INTERNALDATE and RFC822.SIZE: kept and cold agree');
  t.match(kept, new RegExp(`^\\* 2 FETCH \\(ENVELOPE .* INTERNALDATE " 2-Jun-2026 09:00:00 \\+0000" RFC822\\.SIZE ${simple('Rendez-vous', 'Demain 10h', 'rdv.2@hopital.fr').length}\\)\r$`, 'm'));
  // a header section asked with a different field list or range is its own answer
  t.equal(
    await a.run('FETCH 2 (BODY.PEEK[HEADER.FIELDS (Subject)])'),
    '* 2 FETCH (BODY[HEADER.FIELDS (Subject)] {24}\r\nSubject: Rendez-vous\r\n\r\n)\r\nTAG OK FETCH completed\r\n',
  );
  t.equal(
    await a.run('FETCH 2 (BODY.PEEK[HEADER.FIELDS (Subject)]<0.7>)'),
    '* 2 FETCH (BODY[HEADER.FIELDS (Subject)]<0> {7}\r\nSubject)\r\nTAG OK FETCH completed\r\n',
  );
});

t.test('what is kept is never served for another message', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  t.match(await a.run('CREATE Dossier'), /^TAG OK/);
  const folder = mailboxId(db, jean, 'Dossier');
  appendToMailbox(db, folder, simple('Autre sujet', 'Autre texte', 'autre.1@hopital.fr'), [], Date.UTC(2026, 5, 4, 9));

  // UID 1 of INBOX, then UID 1 of another mailbox: each its own ENVELOPE and header
  a.select('INBOX');
  const inboxAnswer = await a.run('FETCH 1 (ENVELOPE BODY.PEEK[HEADER.FIELDS (Subject)])');
  t.match(inboxAnswer, /R=C3=A9sultats/);
  a.select('Dossier');
  const folderAnswer = await a.run('FETCH 1 (ENVELOPE BODY.PEEK[HEADER.FIELDS (Subject)])');
  t.match(folderAnswer, /^\* 1 FETCH \(ENVELOPE \("Tue, 2 Jun 2026 09:00:00 \+0000" "Autre sujet" .*Subject: Autre sujet\r\n\r\n\)/s);
  t.notMatch(folderAnswer, /R=C3=A9sultats/);

  // the mailbox deleted and created again under the same name: its new UID 1 is another message
  t.match(await a.run('CLOSE'), /^TAG OK/);
  t.match(await a.run('DELETE Dossier'), /^TAG OK/);
  t.match(await a.run('CREATE Dossier'), /^TAG OK/);
  const again = mailboxId(db, jean, 'Dossier');
  appendToMailbox(db, again, simple('Nouveau sujet', 'Nouveau texte', 'nouveau.1@hopital.fr'), [], Date.UTC(2026, 5, 5, 9));
  a.select('Dossier');
  const recreated = await a.run('FETCH 1 (ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (Subject)])');
  t.match(recreated, /"Nouveau sujet"/);
  t.match(recreated, /Subject: Nouveau sujet\r\n/);
  t.notMatch(recreated, /Autre sujet/);
  t.equal(recreated, `${rendered(db, again, [1], 'ENVELOPE').replace(')\r\n', '')} ${rendered(db, again, [1], 'BODYSTRUCTURE').replace(/^\* 1 FETCH \(/, '').replace(')\r\n', '')} ${section(db, again, [1], 'BODY.PEEK[HEADER.FIELDS (Subject)]').replace(/^\* 1 FETCH \(/, '')}TAG OK FETCH completed\r\n`);

  // the same header over two different bodies: the header sections agree, the texts do not
  // (DELETE moved Dossier's message to INBOX: the new one is the last)
  const { uid } = appendToMailbox(db, inbox, simple('Rendez-vous', 'Apres-demain 11h', 'rdv.2@hopital.fr'), [], Date.UTC(2026, 5, 2, 9));
  a.select('INBOX');
  const seq = uid; // no message was expunged from INBOX: sequence number = UID
  t.equal(
    await a.run(`FETCH 2,${seq} (BODY.PEEK[HEADER.FIELDS (Subject)])`),
    `* 2 FETCH (BODY[HEADER.FIELDS (Subject)] {24}\r\nSubject: Rendez-vous\r\n\r\n)\r\n* ${seq} FETCH (BODY[HEADER.FIELDS (Subject)] {24}\r\nSubject: Rendez-vous\r\n\r\n)\r\nTAG OK FETCH completed\r\n`,
  );
  const texts = await a.run(`FETCH 2,${seq} (BODY.PEEK[TEXT] BODYSTRUCTURE)`);
  t.match(texts, /^\* 2 FETCH \(BODY\[TEXT\] \{12\}\r\nDemain 10h\r\n BODYSTRUCTURE \("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" 12 1 NIL NIL NIL NIL\)\)\r\n/);
  t.match(texts, new RegExp(`\\* ${seq} FETCH`));
  t.match(texts, /FETCH \(BODY\[TEXT\] \{18\}\r\nApres-demain 11h\r\n BODYSTRUCTURE \("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" 18 1 NIL NIL NIL NIL\)\)\r\n/);
});
