import t from 'tap';
import { analyzeMessage, decodeHeaderValue, getHeader, partAt, searchableText, type MimePart } from '../../src/mime';

// Speed sanity (by hand, never asserted; DESIGN "Targets" are measured by bench/): analyzeMessage
// on a 23 KB message (multipart/mixed > alternative text+html, 14 KB base64 IHE_XDM.ZIP), warmed up,
// 20 000 calls in a loop: ≈ 37 µs per message, ≈ 27 000 msg/s on one core of a 2-core AMD EPYC,
// Node 20; its structure is 830 bytes of JSON. The ingest target is 1 000 msg/s in total.

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

t.test('analyzeMessage: what the store caches for an MSSanté message', async (t) => {
  const raw = crlf(
    'Received: from mx.labo.mssante.fr (mx.labo.mssante.fr [192.0.2.10])',
    '\tby mx.ch-test.mssante.fr; Tue, 4 Mar 2025 09:12:00 +0100',
    'From: =?UTF-8?Q?Laboratoire_Pasteur_M=C3=A9decine?= <labo@labo.mssante.fr>',
    'To: jean.dupont@ch-test.mssante.fr',
    'Subject: =?UTF-8?B?UsOpc3VsdGF0cyBkJ2FuYWx5c2U=?=',
    'Date: Tue, 4 Mar 2025 09:12:00 +0100',
    'Message-ID: <resultats.42@labo.mssante.fr>',
    'X-MSS-INS: 279035121518989',
    'X-MSS-MES: FIN',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="=_mssante_1"',
    '',
    '--=_mssante_1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Résultats joints (dossier XDM).',
    '--=_mssante_1',
    'Content-Type: application/zip',
    "Content-Disposition: attachment; filename*=UTF-8''IHE_XDM.ZIP",
    'Content-Transfer-Encoding: base64',
    '',
    'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==',
    '--=_mssante_1--',
    '',
  );
  const analysis = analyzeMessage(raw);
  t.equal(analysis.messageId, 'resultats.42@labo.mssante.fr');
  t.equal(analysis.envelope.messageId, '<resultats.42@labo.mssante.fr>');
  t.equal(analysis.envelope.subject, '=?UTF-8?B?UsOpc3VsdGF0cyBkJ2FuYWx5c2U=?=', 'ENVELOPE keeps the raw subject');
  t.equal(decodeHeaderValue(analysis.envelope.subject ?? ''), "Résultats d'analyse");
  t.same(analysis.envelope.from, [
    { name: '=?UTF-8?Q?Laboratoire_Pasteur_M=C3=A9decine?=', adl: null, mailbox: 'labo', host: 'labo.mssante.fr' },
  ]);
  t.same(analysis.envelope.to, [{ name: null, adl: null, mailbox: 'jean.dupont', host: 'ch-test.mssante.fr' }]);
  t.equal(getHeader(analysis.header, 'x-mss-ins'), '279035121518989', 'X-MSS-* headers are available as written (R5)');
  t.equal(getHeader(analysis.header, 'x-mss-mes'), 'FIN');
  t.equal(getHeader(analysis.header, 'received'), 'from mx.labo.mssante.fr (mx.labo.mssante.fr [192.0.2.10])\tby mx.ch-test.mssante.fr; Tue, 4 Mar 2025 09:12:00 +0100');

  const { structure } = analysis;
  t.equal(raw.subarray(structure.headerStart, structure.bodyStart).toString(), raw.toString().split('\r\n\r\n')[0] + '\r\n\r\n', 'BODY[HEADER]');
  const attachment = partAt(structure, [2]) as MimePart;
  t.equal(attachment.disposition?.params.filename, 'IHE_XDM.ZIP');
  t.equal(raw.subarray(attachment.bodyStart, attachment.end).toString(), 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==');
  t.equal(searchableText(raw, structure), 'Résultats joints (dossier XDM).');

  const stored = JSON.parse(JSON.stringify({ envelope: analysis.envelope, structure })) as { structure: MimePart };
  t.same(stored.structure, structure, 'the cached JSON gives back the same structure');
});

t.test('analyzeMessage never throws, whatever the bytes', async (t) => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff; // fixed LCG: the same inputs on every run
    return seed / 0x7fffffff;
  };
  const alphabet = Buffer.from('\r\n\r\n:;--=_"<>@,()\\ \tabcXYZ=?Q?B?boundary\xff\xe9\x00', 'latin1');
  let analysed = 0;
  for (let i = 0; i < 300; i++) {
    const prefix = crlf('From: a@b.fr', 'Content-Type: multipart/mixed; boundary=b', '', '--b', '');
    const noise = Buffer.alloc(Math.floor(random() * 400));
    for (let j = 0; j < noise.length; j++) noise[j] = alphabet[Math.floor(random() * alphabet.length)];
    const raw = Buffer.concat([i % 2 === 0 ? prefix : Buffer.alloc(0), noise]);
    const analysis = analyzeMessage(raw);
    if (analysis.structure.end === raw.length) analysed++;
    searchableText(raw, analysis.structure);
  }
  t.equal(analysed, 300);
});
