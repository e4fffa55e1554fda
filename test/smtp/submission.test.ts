// Submission (src/smtp/submission.ts) below the daemon: createSubmission with the real router,
// batcher and authenticator on a temporary store, driven by nodemailer and a raw socket. What a
// mail client relies on: no AUTH in clear, 235/535, its own addresses only, R1/R2 at RCPT time.
import t from 'tap';
import nodemailer from 'nodemailer';
import { hashPassword } from '../../src/policy/password';
import { createOrgAccount, createPersonAccount } from '../../src/store/accounts';
import { addOrgMember } from '../../src/store/org-members';
import { luhnCompleted, peerDomain } from '../helpers/fixtures';
import { DOMAINS, plainConversation, smtpWorld, type SmtpWorld } from './servers';

const PASSWORD = 'Mot-de-passe-Alice-1';
const ALICE = { login: 'alice.martin@hopital-test.fr', mssante: 'alice.martin@mssd-test.mssante.fr' };
const BOB = { login: 'bob.durand@hopital-test.fr', mssante: 'bob.durand@mssd-test.mssante.fr' };
const MED = 'marie.med@hopital-test.fr';
const ORG = 'pharmacie@mssd-test.mssante.fr';

async function setup(t: Parameters<typeof smtpWorld>[0], mode: 'submission' | 'submissions' = 'submission') {
  const world = await smtpWorld(t, mode);
  const passwordHash = await hashPassword(PASSWORD);
  createPersonAccount(world.db, DOMAINS, { type: 'PER', login: ALICE.login, firstName: 'Alice', lastName: 'Martin', rpps: '10000000001', passwordHash });
  createPersonAccount(world.db, DOMAINS, { type: 'PER', login: BOB.login, firstName: 'Bob', lastName: 'Durand', rpps: '10000000002', passwordHash });
  createPersonAccount(world.db, DOMAINS, { type: 'MED', login: MED, firstName: 'Marie', lastName: 'Med', passwordHash });
  createOrgAccount(world.db, DOMAINS, { login: 'pharmacie@hopital-test.fr', address: ORG, name: 'Pharmacie centrale', finess: luhnCompleted('75000001'), responsibleRpps: '10000000001' });
  addOrgMember(world.db, ORG, ALICE.login);
  return world;
}

function submit(world: SmtpWorld, options: { user: string; pass?: string; from: string; to: string[]; raw?: Buffer; implicitTls?: boolean }) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: world.port,
    secure: options.implicitTls ?? false,
    requireTLS: true,
    name: 'client.example',
    auth: { user: options.user, pass: options.pass ?? PASSWORD },
    tls: { ca: world.ca.certPem, servername: 'localhost' },
  });
  const raw = options.raw ?? message(options.from, options.to[0], 'Compte rendu');
  return transport.sendMail({ envelope: { from: options.from, to: options.to }, raw }).finally(() => transport.close());
}

const refusal = (promise: Promise<unknown>) => promise.then(() => '(accepted)', (err: { response?: string }) => err.response ?? String(err));

function message(from: string, to: string, subject: string): Buffer {
  return Buffer.from([`From: Dr Alice Martin <${from}>`, `To: <${to}>`, `Subject: ${subject}`, '', 'Bonjour — résultats ci-joints.', ''].join('\r\n'), 'utf8');
}

t.test('AUTH is neither offered nor accepted before STARTTLS (RFC 3207, RFC 4954 section 4)', async (t) => {
  const world = await setup(t);
  const [greeting, ehlo, auth, mail] = await plainConversation(world.port, [
    'EHLO client.example',
    `AUTH PLAIN ${Buffer.from(`\0${ALICE.login}\0${PASSWORD}`).toString('base64')}`,
    `MAIL FROM:<${ALICE.login}>`,
  ]);
  t.match(greeting, /^220 /);
  t.match(ehlo, /^250[- ]STARTTLS\r$/m);
  t.notMatch(ehlo, /AUTH/, 'AUTH not advertised in clear');
  t.match(auth, /^538 5\.7\.11 Encryption required/);
  t.match(mail, /^530 5\.7\.0 Authentication required/);
});

t.test('local delivery: 250 once stored, Bcc removed, Date and Message-ID added; implicit TLS on submissions', async (t) => {
  const world = await setup(t);
  const raw = Buffer.from([`From: <${ALICE.mssante}>`, `To: <${BOB.mssante}>`, `Bcc: <${BOB.login}>`, 'Subject: Compte rendu', '', 'x', ''].join('\r\n'));
  const info = await submit(world, { user: ALICE.login, from: ALICE.mssante, to: [BOB.mssante, BOB.login], raw });
  t.match(info.response, /^250 2\.6\.0 Message accepted as [0-9A-Z]+/);
  const stored = world.inbox(BOB.login);
  t.equal(stored.length, 1, 'one copy for one box reached by two addresses');
  const content = stored[0].toString('utf8');
  t.match(content, /with ESMTPSA id /, 'authenticated submission over TLS (RFC 3848)');
  t.notMatch(content, /^Bcc:/im);
  t.match(content, /^Date: /m);
  t.match(content, /^Message-ID: <[0-9A-Z]+\.[0-9a-f]+@mx\.mssd-test\.mssante\.fr>\r$/m);

  const implicit = await setup(t, 'submissions');
  t.match((await submit(implicit, { implicitTls: true, user: ALICE.mssante, from: ALICE.login, to: [BOB.login] })).response, /^250 /, 'log in with the MSSanté address too');
});

t.test('refusals: credentials, an ORG login, addresses that are not theirs, R1, R2', async (t) => {
  const world = await setup(t);
  const remote = `dr.peer@${peerDomain().domain}`;
  t.match(await refusal(submit(world, { user: ALICE.login, pass: 'Wrong-pass-1!', from: ALICE.login, to: [BOB.login] })), /^535 5\.7\.8 Authentication credentials invalid/);
  t.match(await refusal(submit(world, { user: ORG, from: ORG, to: [BOB.login] })), /^535 5\.7\.8 .*organisational box \(BAL ORG\)/);
  t.match(
    await refusal(submit(world, { user: ALICE.login, from: BOB.mssante, to: [BOB.login] })),
    /^553 5\.7\.1 Sender address rejected: <bob\.durand@mssd-test\.mssante\.fr> \(MAIL FROM\) is not one of your addresses/,
  );
  t.match(
    await refusal(submit(world, { user: ALICE.login, from: ALICE.login, to: [BOB.login], raw: message(BOB.mssante, BOB.login, 'x') })),
    /^550 5\.7\.1 Sender address rejected: <bob\.durand@mssd-test\.mssante\.fr> \(From:\)/,
  );
  t.match(await refusal(submit(world, { user: BOB.login, from: ORG, to: [ALICE.login] })), /^553 5\.7\.1 .*nor of an organisational box/, 'send-as ORG: not a member');
  t.match(await refusal(submit(world, { user: ALICE.login, from: ALICE.mssante, to: ['someone@gmail.com'] })), /^550 5\.7\.1 <someone@gmail\.com> refused: gmail\.com is not in the MSSante trust space/, 'R1');
  t.match(await refusal(submit(world, { user: MED, from: MED, to: [remote] })), /^550 5\.7\.1 <dr\.peer@[^>]+> refused: a BAL MED account may only write to users of this operator/, 'R2');
  t.equal(world.inbox(BOB.login).length, 0, 'nothing delivered');
  t.match((await submit(world, { user: ALICE.login, from: ORG, to: [BOB.mssante], raw: message(ORG, BOB.mssante, 'De la pharmacie') })).response, /^250 /, 'send-as ORG: a member may');
});
