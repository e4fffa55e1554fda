import t from 'tap';
import {
  isDuplicateRecipient,
  isPatientAddress,
  recipientSetRefusal,
  remoteRecipientRefusal,
  senderAddressRefusal,
} from '../../src/policy/submission-rules';

const PATIENT_DOMAIN = 'patient.mssante.fr';
/** A valid INS: NIR 1800175123456 with key 97 − (NIR mod 97). */
const NIR = 1800175123456n;
const INS = `${NIR}${String(97n - (NIR % 97n)).padStart(2, '0')}`;
const WRONG_KEY = `${NIR}${String(((97n - (NIR % 97n)) % 97n) + 1n).padStart(2, '0')}`;
/** Corsica: 2A counts as 19 in the key. */
const CORSICAN_NIR = '18001' + '2A' + '123456';
const CORSICAN = CORSICAN_NIR + String(97n - (BigInt('18001' + '19' + '123456') % 97n)).padStart(2, '0');

const remote = (address: string, overrides: Partial<Parameters<typeof remoteRecipientRefusal>[0]> = {}) =>
  remoteRecipientRefusal({ address, accountType: 'PER', senderType: 'PER', destinationAllowed: true, patientDomain: PATIENT_DOMAIN, ...overrides });

t.test('sender addresses (R6)', async (t) => {
  const sendable = ['jean.dupont@hopital.fr', 'jean.dupont@exemple.mssante.fr', 'pharmacie@exemple.mssante.fr'];
  t.equal(senderAddressRefusal('Jean.Dupont@Exemple.mssante.fr', sendable, 'MAIL FROM'), null, 'case-insensitive');
  t.equal(senderAddressRefusal('pharmacie@exemple.mssante.fr', sendable, 'From:'), null, 'an ORG they are linked to');
  t.equal(senderAddressRefusal('', sendable, 'MAIL FROM'), null, 'the null reverse-path (MDNs)');
  t.match(senderAddressRefusal('', sendable, 'From:'), { code: 553 });
  t.same(senderAddressRefusal('chef@exemple.mssante.fr', sendable, 'MAIL FROM'), {
    code: 553,
    enhanced: '5.7.1',
    message: 'Sender address rejected: <chef@exemple.mssante.fr> (MAIL FROM) is not one of your addresses nor of an organisational box (BAL ORG) you are linked to',
  });
  t.match(senderAddressRefusal('é\r\n@x.fr', sendable, 'From:')?.message, /<\?\?\?@x\.fr>/, 'printable ASCII only');
});

t.test('remote recipients: R2, then R1, then R4', async (t) => {
  t.equal(remote('dr@chu.mssante.fr'), null);
  t.match(remote('dr@chu.mssante.fr', { accountType: 'MED' }), { code: 550, enhanced: '5.7.1', message: /BAL MED account may only write to users of this operator, not to chu\.mssante\.fr/ });
  t.match(remote('dr@chu.mssante.fr', { accountType: 'MED', senderType: 'ORG' }), { code: 550 }, 'a MED sending as an ORG is still a MED writing');
  t.match(remote('x@gmail.com', { destinationAllowed: false }), { code: 550, enhanced: '5.7.1', message: /gmail\.com is not in the MSSante trust space/ });
  t.match(remote('x@gmail.com', { destinationAllowed: false, accountType: 'MED' }), { message: /BAL MED/ }, 'R2 named first');
});

t.test('patient addresses (R4)', async (t) => {
  t.ok(isPatientAddress(`${INS}@Patient.MSSante.fr`, PATIENT_DOMAIN));
  t.notOk(isPatientAddress(`${INS}@exemple.mssante.fr`, PATIENT_DOMAIN));
  t.equal(remote(`${INS}@${PATIENT_DOMAIN}`), null, 'PER with a valid INS');
  t.equal(remote(`${INS}@${PATIENT_DOMAIN}`, { senderType: 'ORG', accountType: 'INT' }), null, 'an ORG may, whoever its member is');
  t.equal(remote(`${CORSICAN}@${PATIENT_DOMAIN}`), null, 'Corsican INS (2A)');
  t.match(remote(`${WRONG_KEY}@${PATIENT_DOMAIN}`), { code: 550, enhanced: '5.1.3', message: /the key of INS \d{15} \(its last two digits\) is wrong/ });
  for (const bad of ['jean.dupont', '12345', `${INS}0`, `${INS.slice(0, 5)}2C${INS.slice(7)}`]) {
    t.match(remote(`${bad}@${PATIENT_DOMAIN}`), { code: 550, enhanced: '5.1.3', message: /must be the patient's INS/ }, bad);
  }
  t.match(remote(`${INS}@${PATIENT_DOMAIN}`, { senderType: 'INT', accountType: 'INT' }), { code: 550, enhanced: '5.7.1', message: /only a personal PER box or an organisational ORG box may write to a patient, not a BAL INT/ });
  t.match(remote(`${INS}@${PATIENT_DOMAIN}`, { senderType: 'MED', accountType: 'MED' }), { message: /BAL MED account/ });
});

t.test('the recipient set: patient alone (R4), at most maxRecipients (R3)', async (t) => {
  const patient = `${INS}@${PATIENT_DOMAIN}`;
  const set = (address: string, accepted: string[], maxRecipients = 3) => recipientSetRefusal({ address, accepted, maxRecipients, patientDomain: PATIENT_DOMAIN });
  t.equal(set(patient, []), null);
  t.match(set('dr@chu.mssante.fr', [patient]), { code: 550, enhanced: '5.7.1', message: new RegExp(`must have the patient as its only recipient, and <${patient}> is one`) });
  t.match(set(patient, ['dr@chu.mssante.fr']), { code: 550, enhanced: '5.7.1', message: /already has other recipients/ });
  t.match(set(`${CORSICAN}@${PATIENT_DOMAIN}`, [patient]), { code: 550 }, 'a second patient');
  t.equal(set('c@x.fr', ['a@x.fr', 'b@x.fr']), null);
  t.same(set('d@x.fr', ['a@x.fr', 'b@x.fr', 'c@x.fr']), {
    code: 452,
    enhanced: '4.5.3',
    message: 'Too many recipients: at most 3 per message (To, Cc and Bcc together); <d@x.fr> was not added',
  });
  t.ok(isDuplicateRecipient('A@x.fr', ['a@X.fr']));
  t.notOk(isDuplicateRecipient('a@x.fr', ['b@x.fr']));
});
