// Client autoconfig on the live portal listener (issue 10), asked with curl as a mail client
// would: Thunderbird's two URLs and Outlook's POX autodiscover name the daemon's own IMAPS and
// submissions ports, with TLS.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { XMLParser } from 'fast-xml-parser';
import { makeEnv, startDaemon } from '../helpers/daemon';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => name === 'Protocol' });

t.test('autoconfig answers from the live listeners', async (t) => {
  const env = await makeEnv();
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const curl = (args: string[]) => {
    const result = spawnSync('curl', ['-sS', '--fail', '--cacert', env.caFile, '--resolve', `localhost:${env.ports.https}:127.0.0.1`, ...args], { encoding: 'utf8' });
    t.equal(result.status, 0, `curl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const https = (path: string) => `https://localhost:${env.ports.https}${path}`;

  for (const path of ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml?emailaddress=alice.martin%40hopital-test.fr']) {
    const provider = parser.parse(curl([https(path)])).clientConfig.emailProvider;
    t.equal(provider.domain, path.includes('emailaddress') ? 'hopital-test.fr' : 'mssd-test.mssante.fr', 'the domain of the address asked about');
    t.same(
      [provider.incomingServer['@type'], provider.incomingServer.port, provider.incomingServer.socketType],
      ['imap', String(env.ports.imaps), 'SSL'],
      'IMAPS of the running daemon',
    );
    t.same([provider.outgoingServer.port, provider.outgoingServer.socketType], [String(env.ports.submissions), 'SSL']);
    t.equal(provider.incomingServer.hostname, 'mx.mssd-test.mssante.fr', 'the configured hostname, not the bind address');
  }

  const request = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>alice.martin@mssd-test.mssante.fr</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`;
  const answer = parser.parse(curl(['-X', 'POST', '-H', 'Content-Type: text/xml', '--data-binary', request, https('/autodiscover/autodiscover.xml')]));
  const [imap, smtp] = answer.Autodiscover.Response.Account.Protocol;
  t.same([imap.Type, imap.Port, imap.SSL, imap.LoginName], ['IMAP', String(env.ports.imaps), 'on', 'alice.martin@mssd-test.mssante.fr']);
  t.same([smtp.Type, smtp.Port], ['SMTP', String(env.ports.submissions)]);

  const bad = parser.parse(curl(['-X', 'POST', '-H', 'Content-Type: text/xml', '--data-binary', '<Autodiscover/>', https('/Autodiscover/Autodiscover.xml')]));
  t.equal(bad.Autodiscover.Response.Error.ErrorCode, '600', 'a request without an address gets the autodiscover error 600');
});
