// The inbound MTA (src/smtp/mta.ts) below the daemon: createMta with the real router, batcher and
// allowlist on a temporary store, driven by nodemailer as a peer operator and by a raw socket.
// What a peer relies on: the EHLO extensions, 250 only once stored, and each refusal's code (R1).
import t from 'tap';
import nodemailer from 'nodemailer';
import { createPersonAccount, setAccountStatus } from '../../src/store/accounts';
import { issueCertificate } from '../../src/tls/certificates';
import { peerDomain } from '../helpers/fixtures';
import { DOMAINS, plainConversation, smtpWorld, type SmtpWorld } from './servers';

interface SendOptions {
  from: string;
  to: string[];
  raw: Buffer;
  clientCert?: { certPem: string; keyPem: string } | null;
}

function send(world: SmtpWorld, options: SendOptions) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: world.port,
    secure: false,
    requireTLS: true,
    name: 'mx.peer-operator.example',
    tls: { ca: world.ca.certPem, servername: 'localhost', ...(options.clientCert ? { cert: options.clientCert.certPem, key: options.clientCert.keyPem } : {}) },
  });
  return transport.sendMail({ envelope: { from: options.from, to: options.to }, raw: options.raw }).finally(() => transport.close());
}

const refusal = (promise: Promise<unknown>) => promise.then(() => '(accepted)', (err: { response?: string }) => err.response ?? String(err));

function message(from: string, to: string, subject: string, body: string): Buffer {
  return Buffer.from(
    [`From: <${from}>`, `To: <${to}>`, `Subject: ${subject}`, 'Date: Sun, 22 Nov 2026 10:00:00 +0100', `Message-ID: <${subject.replace(/\W/g, '')}@peer.example>`, '', body, ''].join('\r\n'),
    'utf8',
  );
}

async function setup(t: Parameters<typeof smtpWorld>[0], options: { requireClientCertificate?: boolean } = {}) {
  const world = await smtpWorld(t, 'mta', options);
  const alice = createPersonAccount(world.db, DOMAINS, { type: 'PER', login: 'alice.martin@hopital-test.fr', firstName: 'Alice', lastName: 'Martin', rpps: '10000000001' });
  const peer = peerDomain();
  const peerCert = issueCertificate(world.ca, { subject: peer.dnFields, usage: 'client', days: 2 });
  return { world, alice: { login: alice.login, mssante: 'alice.martin@mssd-test.mssante.fr' }, peer, peerCert };
}

t.test('EHLO: the extensions a peer relies on; STARTTLS first', async (t) => {
  const { world } = await setup(t);
  const [greeting, ehlo, mail] = await plainConversation(world.port, ['EHLO mx.peer-operator.example', 'MAIL FROM:<a@b.example>']);
  t.match(greeting, /^220 mx\.mssd-test\.mssante\.fr /);
  for (const extension of ['STARTTLS', 'PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'DSN', 'SIZE 65536']) {
    t.match(ehlo, new RegExp(`^250[- ]${extension}\\r$`, 'm'), extension);
  }
  t.notMatch(ehlo, /AUTH/, 'no AUTH on the MTA');
  t.match(mail, /^530 5\.7\.0 /, 'nothing before STARTTLS (RFC 3207)');
});

t.test('a message from an allowlisted operator: 250 once stored, bytes kept', async (t) => {
  const { world, alice, peer, peerCert } = await setup(t);
  const raw = message(`dr.peer@${peer.domain}`, alice.mssante, 'Compte rendu', 'résultats — 8-bit UTF-8 ✓');
  const info = await send(world, { from: `dr.peer@${peer.domain}`, to: [alice.mssante], raw, clientCert: peerCert });
  t.match(info.response, /^250 2\.6\.0 Message accepted as [0-9A-Z]+/);
  const inbox = world.inbox(alice.login);
  t.equal(inbox.length, 1, 'stored when 250 arrived (R14)');
  t.ok(inbox[0].subarray(inbox[0].length - raw.length).equals(raw), 'original bytes after the trace headers');
});

t.test('refusals with their codes; nothing stored', async (t) => {
  const { world, alice, peer, peerCert } = await setup(t);
  const cases: Array<[string, SendOptions, RegExp]> = [
    ['a sender domain outside the trust space (R1)', { from: 'someone@gmail.com', to: [alice.mssante], raw: message('someone@gmail.com', alice.mssante, 'x', 'x'), clientCert: peerCert }, /^550 5\.7\.1 .*gmail\.com.*trust space/i],
    [
      'a client certificate whose DN is not listed for the sender domain (R1)',
      {
        from: `dr.peer@${peer.domain}`,
        to: [alice.mssante],
        raw: message(`dr.peer@${peer.domain}`, alice.mssante, 'x', 'x'),
        clientCert: issueCertificate(world.ca, { subject: { CN: 'mx.intrus.example', O: 'Intrus', C: 'FR' }, usage: 'client', days: 2 }),
      },
      /^550 5\.7\.1 .*CN=mx\.intrus\.example/,
    ],
    ['a MAIL FROM in our own MSSanté domain (spoofing)', { from: 'chef@mssd-test.mssante.fr', to: [alice.mssante], raw: message('chef@mssd-test.mssante.fr', alice.mssante, 'x', 'x'), clientCert: peerCert }, /^550 5\.7\.1 /],
    ['an unknown recipient', { from: `dr.peer@${peer.domain}`, to: ['personne@mssd-test.mssante.fr'], raw: message(`dr.peer@${peer.domain}`, 'personne@mssd-test.mssante.fr', 'x', 'x'), clientCert: peerCert }, /^550 5\.1\.1 /],
    ['a message over limits.maxMessageBytes', { from: `dr.peer@${peer.domain}`, to: [alice.mssante], raw: message(`dr.peer@${peer.domain}`, alice.mssante, 'gros', 'A'.repeat(100 * 1024)), clientCert: peerCert }, /^552 5\.3\.4 /],
  ];
  for (const [what, options, expected] of cases) t.match(await refusal(send(world, options)), expected, what);
  setAccountStatus(world.db, alice.login, 'suspended');
  t.match(
    await refusal(send(world, { from: `dr.peer@${peer.domain}`, to: [alice.mssante], raw: message(`dr.peer@${peer.domain}`, alice.mssante, 'x', 'x'), clientCert: peerCert })),
    /^550 5\.1\.1 /,
    'a suspended recipient is refused like an unknown one',
  );
  t.equal(world.inbox(alice.login).length, 0, 'nothing stored');
});

t.test('mutual TLS required: no client certificate, 530; a listed one, 250, null sender included', async (t) => {
  const { world, alice, peer, peerCert } = await setup(t, { requireClientCertificate: true });
  const raw = message(`dr.peer@${peer.domain}`, alice.mssante, 'x', 'x');
  t.match(await refusal(send(world, { from: `dr.peer@${peer.domain}`, to: [alice.mssante], raw })), /^530 5\.7\.0 .*certificate/i);
  t.match((await send(world, { from: `dr.peer@${peer.domain}`, to: [alice.mssante], raw, clientCert: peerCert })).response, /^250 /);
  const dsn = await send(world, { from: '', to: [alice.mssante], raw: message('mailer-daemon@peer.example', alice.mssante, 'dsn', 'Delivery report'), clientCert: peerCert });
  t.match(dsn.response, /^250 /, "a null sender (a peer's DSN) from a listed operator");
  t.equal(world.inbox(alice.login).length, 2);
});
