// What a mail client needs to reach this operator, taken from the listeners actually serving, and
// the three formats clients ask it in: Thunderbird autoconfig (config-v1.1.xml), Outlook POX
// autodiscover (responseschema/2006a) and an Apple configuration profile (.mobileconfig).
// Never plaintext: implicit TLS is preferred (993, 465: socketType SSL), else STARTTLS (143, 587);
// a protocol with neither listener is left out.
import { createHash } from 'node:crypto';
import type { Config } from '../../config/schema';
import { escapeHtml as escapeXml } from './html';

export type SocketType = 'SSL' | 'STARTTLS';

export interface ServerSettings {
  hostname: string;
  port: number;
  socketType: SocketType;
}

export interface ClientSettings {
  imap: ServerSettings | null;
  smtp: ServerSettings | null;
}

function portOf(bound: string | undefined): number | null {
  if (!bound) return null;
  const port = Number(bound.slice(bound.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port > 0 ? port : null;
}

/** From the daemon's bound listeners (`listening`, e.g. { imaps: '127.0.0.1:993' }). */
export function clientSettings(config: Pick<Config, 'hostname'>, listening: Record<string, string>): ClientSettings {
  const pick = (tls: string, starttls: string): ServerSettings | null => {
    const implicit = portOf(listening[tls]);
    if (implicit) return { hostname: config.hostname, port: implicit, socketType: 'SSL' };
    const upgraded = portOf(listening[starttls]);
    return upgraded ? { hostname: config.hostname, port: upgraded, socketType: 'STARTTLS' } : null;
  };
  return { imap: pick('imaps', 'imap'), smtp: pick('submissions', 'submission') };
}

/** Thunderbird's config-v1.1.xml (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat). */
export function thunderbirdConfig(settings: ClientSettings, domain: string): string {
  const server = (element: 'incomingServer' | 'outgoingServer', type: 'imap' | 'smtp', s: ServerSettings) => `    <${element} type="${type}">
      <hostname>${escapeXml(s.hostname)}</hostname>
      <port>${s.port}</port>
      <socketType>${s.socketType}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </${element}>
`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${escapeXml(domain)}">
    <domain>${escapeXml(domain)}</domain>
    <displayName>Messagerie sécurisée de santé (${escapeXml(domain)})</displayName>
    <displayShortName>MSSanté</displayShortName>
${settings.imap ? server('incomingServer', 'imap', settings.imap) : ''}${settings.smtp ? server('outgoingServer', 'smtp', settings.smtp) : ''}  </emailProvider>
</clientConfig>
`;
}

export const AUTODISCOVER_REQUEST_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
export const AUTODISCOVER_RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
export const AUTODISCOVER_OUTLOOK_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

/** Outlook's POX autodiscover answer ([MS-OXDSCLI] section 2.2.4, Protocol of type IMAP/SMTP). */
export function autodiscoverResponse(settings: ClientSettings, email: string): string {
  const protocol = (type: 'IMAP' | 'SMTP', s: ServerSettings) => `      <Protocol>
        <Type>${type}</Type>
        <Server>${escapeXml(s.hostname)}</Server>
        <Port>${s.port}</Port>
        <LoginName>${escapeXml(email)}</LoginName>
        <DomainRequired>off</DomainRequired>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <Encryption>${s.socketType === 'SSL' ? 'SSL' : 'TLS'}</Encryption>
        <AuthRequired>on</AuthRequired>
      </Protocol>
`;
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${AUTODISCOVER_RESPONSE_NS}">
  <Response xmlns="${AUTODISCOVER_OUTLOOK_NS}">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
${settings.imap ? protocol('IMAP', settings.imap) : ''}${settings.smtp ? protocol('SMTP', settings.smtp) : ''}    </Account>
  </Response>
</Autodiscover>
`;
}

/** The autodiscover error answer for a request we cannot read (Error code 600: invalid request). */
export function autodiscoverError(message: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${AUTODISCOVER_RESPONSE_NS}">
  <Response>
    <Error Time="${new Date().toISOString().slice(11, 19)}" Id="1">
      <ErrorCode>600</ErrorCode>
      <Message>${escapeXml(message)}</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
`;
}

/** A stable UUID from text, so the same account always gets the same profile identifiers. */
function uuidFrom(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`.toUpperCase();
}

/** An Apple configuration profile with one com.apple.mail.managed payload (no password in it). */
export function appleMobileconfig(settings: ClientSettings, account: { email: string; login: string; displayName: string }, hostname: string): string {
  const entry = (key: string, value: string | number | boolean) =>
    `\t\t\t<key>${key}</key>\n\t\t\t${typeof value === 'boolean' ? `<${value}/>` : typeof value === 'number' ? `<integer>${value}</integer>` : `<string>${escapeXml(value)}</string>`}\n`;
  const id = `fr.mssante.${hostname}.${account.login}`;
  const mail = [
    entry('EmailAccountDescription', `MSSanté ${account.email}`),
    entry('EmailAccountName', account.displayName),
    entry('EmailAccountType', 'EmailTypeIMAP'),
    entry('EmailAddress', account.email),
    ...(settings.imap
      ? [
          entry('IncomingMailServerAuthentication', 'EmailAuthPassword'),
          entry('IncomingMailServerHostName', settings.imap.hostname),
          entry('IncomingMailServerPortNumber', settings.imap.port),
          entry('IncomingMailServerUseSSL', true),
          entry('IncomingMailServerUsername', account.login),
        ]
      : []),
    ...(settings.smtp
      ? [
          entry('OutgoingMailServerAuthentication', 'EmailAuthPassword'),
          entry('OutgoingMailServerHostName', settings.smtp.hostname),
          entry('OutgoingMailServerPortNumber', settings.smtp.port),
          entry('OutgoingMailServerUseSSL', true),
          entry('OutgoingMailServerUsername', account.login),
          entry('OutgoingPasswordSameAsIncomingPassword', true),
        ]
      : []),
    entry('PayloadDisplayName', 'Messagerie sécurisée de santé'),
    entry('PayloadIdentifier', `${id}.mail`),
    entry('PayloadType', 'com.apple.mail.managed'),
    entry('PayloadUUID', uuidFrom(`${id}.mail`)),
    entry('PayloadVersion', 1),
  ].join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
\t<key>PayloadContent</key>
\t<array>
\t\t<dict>
${mail}\t\t</dict>
\t</array>
\t<key>PayloadDisplayName</key>
\t<string>Messagerie sécurisée de santé (${escapeXml(account.email)})</string>
\t<key>PayloadIdentifier</key>
\t<string>${escapeXml(id)}</string>
\t<key>PayloadType</key>
\t<string>Configuration</string>
\t<key>PayloadUUID</key>
\t<string>${uuidFrom(id)}</string>
\t<key>PayloadVersion</key>
\t<integer>1</integer>
</dict>
</plist>
`;
}
