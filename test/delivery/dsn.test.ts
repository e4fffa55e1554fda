import t from 'tap';
import { simpleParser } from 'mailparser';
import { buildDsn, isDeliveryReport, statusOfReply, wantsNotification, withoutReturnPath, type DsnInput } from '../../src/delivery/dsn';

const original = Buffer.from(
  'Return-Path: <a@exemple.mssante.fr>\r\nReceived: by mx (mssd) id Q1;\r\n\tSun, 22 Nov 2026 09:00:00 +0000\r\nFrom: <a@exemple.mssante.fr>\r\nSubject: =?UTF-8?Q?R=C3=A9sultats?=\r\nX-MSS-MES: FIN\r\n\r\nCorps é\r\n',
);

function input(overrides: Partial<DsnInput> = {}): DsnInput {
  return {
    reportingMta: 'mx.exemple.mssante.fr',
    from: 'mailer-daemon@exemple.mssante.fr',
    to: 'a@exemple.mssante.fr',
    envid: 'ENV+1',
    ret: null,
    arrivalDate: new Date(Date.UTC(2026, 10, 22, 9)),
    queueId: 'Q1',
    recipients: [{ address: 'b@chu.mssante.fr', orcpt: 'rfc822;B@chu.mssante.fr', action: 'failed', status: '5.1.1', remoteMta: 'mx.chu.mssante.fr', diagnostic: '550 5.1.1 No such\r\n user', lastAttempt: new Date(Date.UTC(2026, 10, 22, 9, 1)) }],
    original,
    date: new Date(Date.UTC(2026, 10, 22, 9, 2)),
    ...overrides,
  };
}

t.test('a failure report (RFC 3464) that mailparser reads as a delivery report', async (t) => {
  const raw = buildDsn(input());
  t.notOk(raw.includes(Buffer.from('\n\n')) && !raw.includes(Buffer.from('\r\n')), 'CRLF');
  const parsed = await simpleParser(raw, { keepDeliveryStatus: true });
  const type = parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
  t.equal(type.value, 'multipart/report');
  t.equal(type.params['report-type'], 'delivery-status');
  t.equal(parsed.subject, 'Message non distribué / Undelivered message');
  t.equal(parsed.headers.get('auto-submitted'), 'auto-replied');
  t.match(parsed.text, /Votre message n’a pas pu être distribué[\s\S]*Objet : Résultats[\s\S]*<b@chu\.mssante\.fr> : NON DISTRIBUÉ/);
  t.match(parsed.text, /Your message could not be delivered[\s\S]*Subject: Résultats[\s\S]*Reply: 550 5\.1\.1 No such user/);
  const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status')!.content.toString();
  t.match(status, /^Reporting-MTA: dns; mx\.exemple\.mssante\.fr\r\nOriginal-Envelope-Id: ENV\+1\r\nX-Mssd-Queue-ID: Q1\r\nArrival-Date: Sun, 22 Nov 2026 09:00:00 \+0000\r\n\r\n/);
  t.match(status, /Original-Recipient: rfc822; B@chu\.mssante\.fr\r\nFinal-Recipient: rfc822; b@chu\.mssante\.fr\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.chu\.mssante\.fr\r\nDiagnostic-Code: smtp; 550 5\.1\.1 No such user\r\nLast-Attempt-Date: Sun, 22 Nov 2026 09:01:00 \+0000/);
  const returned = parsed.attachments.find((a) => a.contentType === 'message/rfc822')!;
  t.ok(returned, 'the whole original by default');
  t.notMatch(returned.content.toString(), /Return-Path/, 'without our Return-Path');
  t.ok(returned.content.toString().endsWith('Corps é\r\n'));
});

t.test('RET=HDRS and success reports return the header only', async (t) => {
  for (const variant of [input({ ret: 'HDRS' }), input({ ret: 'FULL', recipients: [{ address: 'b@x.fr', orcpt: null, action: 'delivered', status: '2.0.0' }] })]) {
    const parsed = await simpleParser(buildDsn(variant), { keepDeliveryStatus: true });
    const headers = parsed.attachments.find((a) => a.contentType === 'text/rfc822-headers');
    t.ok(headers);
    t.notMatch(headers!.content.toString(), /Corps/);
    t.notOk(parsed.attachments.some((a) => a.contentType === 'message/rfc822'));
  }
  const success = await simpleParser(buildDsn(input({ recipients: [{ address: 'b@x.fr', orcpt: null, action: 'delivered', status: '2.0.0' }] })));
  t.equal(success.subject, 'Message distribué / Message delivered');
  const relayed = await simpleParser(buildDsn(input({ recipients: [{ address: 'b@x.fr', orcpt: null, action: 'relayed', status: '2.0.0' }] })));
  t.equal(relayed.subject, 'Message transmis / Message relayed');
});

t.test('helpers', async (t) => {
  t.ok(wantsNotification(null, 'FAILURE'), 'no NOTIFY: failures only (RFC 3461 section 4.1)');
  t.notOk(wantsNotification(null, 'SUCCESS'));
  t.ok(wantsNotification('SUCCESS,FAILURE', 'SUCCESS'));
  t.notOk(wantsNotification('NEVER', 'FAILURE'));
  t.notOk(wantsNotification('SUCCESS', 'FAILURE'));
  t.equal(statusOfReply('550 5.1.1 No such user', '5.0.0'), '5.1.1');
  t.equal(statusOfReply('554 transaction failed', '5.0.0'), '5.0.0');
  t.equal(statusOfReply('550 4.1.1 inconsistent', '5.0.0'), '5.0.0', 'class must agree with the reply code');
  t.equal(statusOfReply('connection refused', '4.4.1'), '4.4.1');
  t.equal(withoutReturnPath(Buffer.from('Return-Path: <a@x>\r\nReturn-Path:\r\n <b@x>\r\nFrom: x\r\n\r\n')).toString(), 'From: x\r\n\r\n');
  const plain = Buffer.from('From: x\r\n\r\n');
  t.equal(withoutReturnPath(plain), plain);
  t.ok(isDeliveryReport(buildDsn(input())));
  t.notOk(isDeliveryReport(original));
});
