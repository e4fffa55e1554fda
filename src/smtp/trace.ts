// Trace fields added at reception (RFC 5321 section 4.4): Return-Path with the reverse-path and a
// Received line naming the peer, this server, the protocol (RFC 3848 keywords) and our id.
import { rfc5322Date } from '../mime/date';

export interface TraceInfo {
  mailFrom: string;
  helo: string;
  peerAddress: string;
  hostname: string;
  queueId: string;
  tlsProtocol: string | null;
  tlsCipher: string | null;
  authenticated: boolean;
  utf8: boolean;
  recipients: string[];
  date: Date;
}

/** RFC 3848 "with" keyword: ESMTP, plus S for TLS, A for AUTH; UTF8SMTP* per RFC 6531. */
function protocolKeyword(info: TraceInfo): string {
  return `${info.utf8 ? 'UTF8SMTP' : 'ESMTP'}${info.tlsProtocol ? 'S' : ''}${info.authenticated ? 'A' : ''}`;
}

/** The Return-Path and Received header lines, CRLF-terminated, to put before the message. */
export function traceHeaders(info: TraceInfo): Buffer {
  const helo = info.helo.replace(/[^\x21-\x7e]/g, '') || 'unknown';
  const tls = info.tlsProtocol ? `\r\n\t(using ${info.tlsProtocol}${info.tlsCipher ? ` with cipher ${info.tlsCipher}` : ''})` : '';
  // "for" only with a single recipient: naming several would disclose Bcc recipients.
  const forClause = info.recipients.length === 1 ? `\r\n\tfor <${info.recipients[0]}>` : '';
  const lines =
    `Return-Path: <${info.mailFrom}>\r\n` +
    `Received: from ${helo} ([${info.peerAddress}])\r\n` +
    `\tby ${info.hostname} (mssd) with ${protocolKeyword(info)} id ${info.queueId}${tls}${forClause};\r\n` +
    `\t${rfc5322Date(info.date)}\r\n`;
  return Buffer.from(lines, 'utf8');
}
