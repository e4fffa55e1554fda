// ACL read side (RFC 4314): MYRIGHTS, GETACL, LISTRIGHTS reflect ownership and R6 delegation;
// SETACL and DELETEACL are refused; no answer reveals a box the person cannot see.
import t from 'tap';
import { removeOrgMember } from '../../../src/store/org-members';
import { freshWorld, LAB, PHARMACY } from '../../store/imap-fixtures';
import { testSession } from './harness';

const ORG_INBOX = `"Partag&AOk-/${PHARMACY}/INBOX"`;

t.test('the owner of a box has every right and reads its ACL', async (t) => {
  const { db, jean } = freshWorld(t);
  const s = testSession(db, jean);
  const caps = s.session.capabilities();
  t.ok(caps.includes('ACL') && caps.includes('RIGHTS=texk'), 'ACL and RIGHTS=texk advertised');
  t.equal(await s.run('MYRIGHTS INBOX'), '* MYRIGHTS "INBOX" lrswipkxtea\r\nTAG OK MYRIGHTS completed\r\n');
  t.equal(await s.run('MYRIGHTS Envoy&AOk-s'), '* MYRIGHTS "Envoy&AOk-s" lrswipkxtea\r\nTAG OK MYRIGHTS completed\r\n');
  t.equal(await s.run('GETACL INBOX'), '* ACL "INBOX" jean.dupont@hopital.fr lrswipkxtea\r\nTAG OK GETACL completed\r\n', 'a personal box: its owner only');
  t.equal(await s.run('LISTRIGHTS INBOX jean.dupont@hopital.fr'), '* LISTRIGHTS "INBOX" jean.dupont@hopital.fr lrswipkxtea\r\nTAG OK LISTRIGHTS completed\r\n');
  t.equal(await s.run('LISTRIGHTS INBOX anyone'), '* LISTRIGHTS "INBOX" anyone ""\r\nTAG OK LISTRIGHTS completed\r\n', 'nothing can be granted to anybody else');
  t.match(await s.run('MYRIGHTS Nulle-part'), /^TAG NO \[NONEXISTENT\]/);
  t.match(await s.run('MYRIGHTS'), /^TAG BAD/);
});

t.test('a person linked to an ORG box has every right but administer on its folders (R6)', async (t) => {
  const { db, jean, marie } = freshWorld(t);
  const s = testSession(db, jean);
  t.equal(await s.run(`MYRIGHTS ${ORG_INBOX}`), `* MYRIGHTS ${ORG_INBOX} lrswipkxte\r\nTAG OK MYRIGHTS completed\r\n`);
  t.match(await s.run(`GETACL ${ORG_INBOX}`), /^TAG NO \[NOPERM\] GETACL needs the administer right \(a\); your rights on this shared mailbox are lrswipkxte\r\n$/);
  t.match(await s.run(`LISTRIGHTS ${ORG_INBOX} jean.dupont@hopital.fr`), /^TAG NO \[NOPERM\]/);

  // Marie is not linked to the pharmacy, nobody is linked to the lab: not even their existence shows
  const m = testSession(db, marie);
  t.match(await m.run(`MYRIGHTS ${ORG_INBOX}`), /^TAG NO \[NONEXISTENT\] Mailbox .* does not exist or is not shared with you/);
  t.match(await s.run(`MYRIGHTS "Partag&AOk-/${LAB}/INBOX"`), /^TAG NO \[NONEXISTENT\]/);

  // unlinking removes the rights at the next command
  removeOrgMember(db, PHARMACY, 'jean.dupont@hopital.fr');
  t.match(await s.run(`MYRIGHTS ${ORG_INBOX}`), /^TAG NO \[NONEXISTENT\]/);
});

t.test('the ORG box itself (token login) sees who is linked', async (t) => {
  const { db, pharmacy } = freshWorld(t);
  const s = testSession(db, pharmacy);
  t.equal(
    await s.run('GETACL INBOX'),
    '* ACL "INBOX" contact@pharmacie.fr lrswipkxtea jean.dupont@hopital.fr lrswipkxte secretariat@hopital.fr lrswipkxte\r\nTAG OK GETACL completed\r\n',
  );
  t.equal(await s.run('LISTRIGHTS INBOX Secretariat@hopital.fr'), '* LISTRIGHTS "INBOX" Secretariat@hopital.fr lrswipkxte\r\nTAG OK LISTRIGHTS completed\r\n', 'identifiers without regard to case');
});

t.test('SETACL and DELETEACL are refused: the operator manages rights', async (t) => {
  const { db, jean } = freshWorld(t);
  const s = testSession(db, jean);
  t.match(await s.run('SETACL INBOX marie.curie@hopital.fr +lr'), /^TAG NO \[NOPERM\] Rights are managed by the operator/);
  t.match(await s.run('DELETEACL INBOX marie.curie@hopital.fr'), /^TAG NO \[NOPERM\] Rights are managed by the operator/);
  t.match(await s.run('SETACL Nulle-part marie lr'), /^TAG NO \[NONEXISTENT\]/);
  t.match(await s.run('SETACL INBOX marie'), /^TAG BAD/, 'rights are required');
  t.equal(await s.run('MYRIGHTS INBOX'), '* MYRIGHTS "INBOX" lrswipkxtea\r\nTAG OK MYRIGHTS completed\r\n', 'nothing changed');
});
