import t from 'tap';
import { toCrlf } from '../../src/mime/crlf';

t.test('bare LF line ends become CRLF, CRLF ones are kept', async (t) => {
  t.equal(toCrlf(Buffer.from('a\nb\r\nc\n')).toString(), 'a\r\nb\r\nc\r\n');
  t.equal(toCrlf(Buffer.from('\nx')).toString(), '\r\nx');
  const already = Buffer.from('Subject: x\r\n\r\nbody\r\n');
  t.equal(toCrlf(already), already, 'no copy when nothing changes');
  t.equal(toCrlf(Buffer.from('')).length, 0);
  t.equal(toCrlf(Buffer.from('é\n')).toString('utf8'), 'é\r\n', '8-bit bytes untouched');
});
