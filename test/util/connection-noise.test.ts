// Client noise is one quiet line per kind per minute, with a count of what was left out; what is
// not recognised as noise stays for the error level.
import t from 'tap';
import { classifyConnectionError, NoiseLog } from '../../src/util/connection-noise';
import { memoryLogger } from '../jobs/fixtures';

t.test('classification of real error shapes', async (t) => {
  const unsupported = Object.assign(new Error('80:error:0A000102:SSL routines:tls_early_post_process_client_hello:unsupported protocol:statem_srvr.c:1664:\n'), {
    code: 'ERR_SSL_UNSUPPORTED_PROTOCOL',
    reason: 'unsupported protocol',
  });
  t.equal(classifyConnectionError(unsupported), 'tls-unsupported');
  t.equal(classifyConnectionError(Object.assign(new Error('Socket closed while initiating TLS'), { code: 'SocketError' })), 'tls-aborted');
  t.equal(classifyConnectionError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), 'connection-reset');
  t.equal(classifyConnectionError(Object.assign(new Error('bad record mac'), { code: 'ERR_SSL_BAD_RECORD_MAC' })), 'tls-failed');
  t.equal(classifyConnectionError(Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' })), null, 'out of file descriptors needs a human');
  t.equal(classifyConnectionError(new Error('SQLITE_FULL: database or disk is full')), null);
});

t.test('one line per kind per minute, then a count', async (t) => {
  const { log, lines } = memoryLogger();
  let now = 0;
  const noise = new NoiseLog(log, { smtp: 'mta' }, 60_000, () => now);
  const unsupported = Object.assign(new Error('unsupported protocol'), { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL', meta: { remoteAddress: '192.0.2.7' } });
  for (let i = 0; i < 5; i++) t.equal(noise.reportError(unsupported), true);
  noise.report('connection-limit', { peer: '192.0.2.8' });
  t.equal(lines.length, 2, 'the first of each kind only');
  t.match(lines[0], { level: 30, smtp: 'mta', kind: 'tls-unsupported', peer: '192.0.2.7' });
  t.notOk('err' in lines[0] || 'stack' in lines[0], 'no stack');
  t.match(lines[1], { level: 40, kind: 'connection-limit', peer: '192.0.2.8' });
  now = 61_000;
  noise.reportError(unsupported);
  t.equal(lines.length, 3);
  t.match(lines[2], { kind: 'tls-unsupported', alsoInLastMinute: 4 }, 'says how many were left out');
  t.equal(noise.reportError(new Error('EMFILE')), false, 'a real fault is handed back');
});
