import t from 'tap';
import { decodeHeaderValue, decodeQuotedPrintable } from '../../src/mime/decode';

t.test('quoted-printable (RFC 2045 §6.7)', async (t) => {
  const decode = (text: string) => decodeQuotedPrintable(Buffer.from(text, 'latin1')).toString('latin1');
  t.equal(decode('R=C3=A9sultats =3D normaux'), 'R\xc3\xa9sultats = normaux');
  t.equal(decode('une ligne tr=\r\ns longue=\nici'), 'une ligne trs longueici', 'soft line breaks, CRLF or LF');
  t.equal(decode('espaces  =  \r\nsuite'), 'espaces  suite', 'whitespace before a soft break is data, after "=" is padding');
  t.equal(decode('fin de ligne   \r\nsuivante\t'), 'fin de ligne\r\nsuivante', 'trailing whitespace added in transport is dropped');
  t.equal(decode('espace=20\r\n'), 'espace \r\n', 'an encoded trailing space is kept');
  t.equal(decode('=ZZ, =4, 100% =\r'), '=ZZ, =4, 100% =\r', 'invalid escapes stay as they are');
  t.equal(decode('end='), 'end');
});

t.test('decodeHeaderValue: RFC 2047 encoded words', async (t) => {
  t.equal(decodeHeaderValue('=?UTF-8?Q?R=C3=A9sultats_d=27analyse?='), "Résultats d'analyse");
  t.equal(decodeHeaderValue('=?utf-8?B?UsOpc3VsdGF0cw==?='), 'Résultats');
  t.equal(decodeHeaderValue('=?ISO-8859-1?Q?Ren=E9e?= Durand'), 'Renée Durand');
  t.equal(decodeHeaderValue('Fwd: =?UTF-8?Q?a?=  =?UTF-8?Q?b?=\t=?UTF-8?Q?_c?= d'), 'Fwd: ab c d', 'whitespace between encoded words is dropped, not around plain text');
  t.equal(decodeHeaderValue('=?UTF-8?B?w6k=?==?UTF-8?B?w6k=?='), 'éé');
  t.equal(decodeHeaderValue('=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9t=C3=A9?='), 'été', 'a character split across two words is joined');
  t.equal(decodeHeaderValue('=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?='), 'éé', 'adjacent words in different charsets');
  t.equal(decodeHeaderValue('=?UTF-8*fr?Q?=C3=A9?='), 'é', 'RFC 2231 language suffix');
  t.equal(decodeHeaderValue('=?UTF-8?X?abc?= and =?broken'), '=?UTF-8?X?abc?= and =?broken', 'not an encoded word: left alone');
  t.equal(decodeHeaderValue('plain subject'), 'plain subject');
});
