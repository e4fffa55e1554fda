// Client autoconfig documents (issue 10): built from the listeners actually serving, never
// plaintext, in the shapes Thunderbird (config-v1.1.xml), Outlook (POX autodiscover 2006a) and
// Apple (configuration profile plist) read.
import t from 'tap';
import { XMLParser } from 'fast-xml-parser';
import {
  appleMobileconfig,
  autodiscoverResponse,
  clientSettings,
  thunderbirdConfig,
} from '../../src/web/portal/client-settings';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => name === 'Protocol' });
const config = { hostname: 'mail.exemple.fr' };

t.test('implicit TLS is preferred; STARTTLS when only that listens; a protocol with neither is left out', async (t) => {
  t.same(clientSettings(config, { imaps: '0.0.0.0:993', imap: '0.0.0.0:143', submissions: '0.0.0.0:465', submission: '0.0.0.0:587' }), {
    imap: { hostname: 'mail.exemple.fr', port: 993, socketType: 'SSL' },
    smtp: { hostname: 'mail.exemple.fr', port: 465, socketType: 'SSL' },
  });
  t.same(clientSettings(config, { imap: '0.0.0.0:143', submission: '[::]:587' }), {
    imap: { hostname: 'mail.exemple.fr', port: 143, socketType: 'STARTTLS' },
    smtp: { hostname: 'mail.exemple.fr', port: 587, socketType: 'STARTTLS' },
  });
  t.same(clientSettings(config, { smtp: '0.0.0.0:25' }), { imap: null, smtp: null }, 'the MTA port is never offered to clients');
});

t.test('Thunderbird config-v1.1.xml', async (t) => {
  const cases: Array<Record<string, string>> = [{ imaps: 'x:993', submissions: 'x:465' }, { imap: 'x:143', submission: 'x:587' }];
  for (const listening of cases) {
    const doc = parser.parse(thunderbirdConfig(clientSettings(config, listening), 'exemple.mssante.fr'));
    const provider = doc.clientConfig.emailProvider;
    t.equal(doc.clientConfig['@version'], '1.1');
    t.equal(provider['@id'], 'exemple.mssante.fr');
    t.equal(provider.domain, 'exemple.mssante.fr');
    t.ok(provider.displayName && provider.displayShortName);
    const incoming = provider.incomingServer;
    const outgoing = provider.outgoingServer;
    t.equal(incoming['@type'], 'imap');
    t.equal(outgoing['@type'], 'smtp');
    for (const server of [incoming, outgoing]) {
      t.equal(server.hostname, 'mail.exemple.fr');
      t.match(server.socketType, /^(SSL|STARTTLS)$/, 'never plain');
      t.equal(server.authentication, 'password-cleartext');
      t.equal(server.username, '%EMAILADDRESS%');
    }
    t.same([incoming.port, outgoing.port], listening.imaps ? ['993', '465'] : ['143', '587']);
    t.same([incoming.socketType, outgoing.socketType], listening.imaps ? ['SSL', 'SSL'] : ['STARTTLS', 'STARTTLS']);
  }
});

t.test('Outlook POX autodiscover response (responseschema/2006a)', async (t) => {
  const doc = parser.parse(autodiscoverResponse(clientSettings(config, { imaps: 'x:993', submission: 'x:587' }), 'a.b@exemple.mssante.fr'));
  t.equal(doc.Autodiscover['@xmlns'], 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006');
  const response = doc.Autodiscover.Response;
  t.equal(response['@xmlns'], 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a');
  t.equal(response.Account.AccountType, 'email');
  t.equal(response.Account.Action, 'settings');
  const [imap, smtp] = response.Account.Protocol;
  t.same([imap.Type, imap.Server, imap.Port, imap.LoginName, imap.SSL, imap.Encryption, imap.SPA, imap.AuthRequired], ['IMAP', 'mail.exemple.fr', '993', 'a.b@exemple.mssante.fr', 'on', 'SSL', 'off', 'on']);
  t.same([smtp.Type, smtp.Port, smtp.Encryption], ['SMTP', '587', 'TLS'], 'STARTTLS is Encryption TLS');
});

t.test('Apple configuration profile: a com.apple.mail.managed payload with TLS and no password', async (t) => {
  const plist = appleMobileconfig(clientSettings(config, { imaps: 'x:993', submissions: 'x:465' }), { email: 'a.b@exemple.mssante.fr', login: 'a.b@hopital.fr', displayName: 'A B' }, 'mail.exemple.fr');
  t.match(plist, /<!DOCTYPE plist PUBLIC "-\/\/Apple\/\/DTD PLIST 1.0\/\/EN"/);
  const doc = new XMLParser({ preserveOrder: false, parseTagValue: false }).parse(plist);
  const keys: string[] = doc.plist.dict.key;
  t.ok(keys.includes('PayloadContent') && keys.includes('PayloadUUID'));
  t.match(plist, /<key>PayloadType<\/key>\s*<string>com\.apple\.mail\.managed<\/string>/);
  t.match(plist, /<key>IncomingMailServerUseSSL<\/key>\s*<true\/>/);
  t.match(plist, /<key>OutgoingMailServerUseSSL<\/key>\s*<true\/>/);
  t.match(plist, /<key>IncomingMailServerPortNumber<\/key>\s*<integer>993<\/integer>/);
  t.notMatch(plist, /<key>(Incoming|Outgoing)Password<\/key>/, 'no password in the profile');
});
