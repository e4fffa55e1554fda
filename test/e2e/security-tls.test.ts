// Issue 15 finding 5: suites without forward secrecy (RSA key exchange) were accepted. Every
// listener now takes TLS 1.2 only with ECDHE and an AEAD cipher (AES-GCM, ChaCha20-Poly1305), in
// its own order; TLS 1.3 is unchanged. Probed with openssl s_client, as an auditor would.
import t from 'tap';
import { makeEnv, startDaemon } from '../helpers/daemon';
import { acceptedTls12Suites, handshake, type TlsTarget } from '../helpers/tls-probe';

t.test('every listener refuses non-forward-secret suites and offers only ECDHE with AEAD', async (t) => {
  const env = await makeEnv();
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const targets: TlsTarget[] = [
    { name: 'MTA (STARTTLS)', port: env.ports.smtp, starttls: 'smtp' },
    { name: 'submission (STARTTLS)', port: env.ports.submission, starttls: 'smtp' },
    { name: 'submissions (implicit TLS)', port: env.ports.submissions, starttls: null },
    { name: 'IMAP (STARTTLS)', port: env.ports.imap, starttls: 'imap' },
    { name: 'IMAPS (implicit TLS)', port: env.ports.imaps, starttls: null },
    { name: 'portal HTTPS (listen.https)', port: env.ports.https, starttls: null },
  ];
  for (const target of targets) {
    await t.test(target.name, async (t) => {
      for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384']) {
        const result = handshake(target, { tls12: `${weak}:@SECLEVEL=0` });
        t.equal(result.cipher, null, `openssl s_client -tls1_2 -cipher ${weak} fails`);
      }
      const suites = acceptedTls12Suites(target);
      t.comment(`${target.name}: TLS 1.2 suites accepted, server order: ${suites.join(', ')}`);
      t.ok(suites.length > 0, 'TLS 1.2 still works');
      for (const suite of suites) t.match(suite, /^ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/, `${suite} is ECDHE with AEAD`);
      t.equal(suites[0], 'ECDHE-RSA-AES256-GCM-SHA384', 'the server picks in its own order (honorCipherOrder), the strongest first');
      const tls13 = handshake(target, { tls13: 'TLS_AES_128_GCM_SHA256' });
      t.equal(tls13.protocol, 'TLSv1.3', 'TLS 1.3 is still offered', { output: tls13.output });
    });
  }
});
