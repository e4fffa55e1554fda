// The relay pool patches private members of nodemailer's SMTP client (src/delivery/relay-pool.ts):
// `_getDsnRcptToArgs` is replaced so that each recipient gets its own NOTIFY and ORCPT (RFC 3461
// section 4), and `_supportedExtensions` / `_recipientQueue` are read. nodemailer is pinned to an
// exact version; these tests fail when an upgrade changes what the patch stands on.
import t from 'tap';
import type { AddressInfo } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { RelayPool, sendOn, type PeerConnection } from '../../src/delivery/relay-pool';
import { hardenedTlsOptions, type RelayTlsOptions } from '../../src/tls/server-options';
import { tempDir, testConfig } from '../jobs/fixtures';

const installed = require('nodemailer/package.json') as { version: string };
const declared = (require('../../package.json') as { dependencies: Record<string, string> }).dependencies.nodemailer;

t.test('nodemailer is pinned to the exact version installed', async (t) => {
  t.match(declared, /^\d+\.\d+\.\d+$/, 'package.json names one exact version (no range)');
  t.equal(installed.version, declared, 'the installed nodemailer is the pinned one');
});

t.test('the private members the pool relies on exist', async (t) => {
  t.type((SMTPConnection.prototype as unknown as Record<string, unknown>)._getDsnRcptToArgs, 'function', '_getDsnRcptToArgs is a method of SMTPConnection');
  const connection = new SMTPConnection({ host: '127.0.0.1', port: 1, logger: false }) as unknown as Record<string, unknown>;
  t.ok(Array.isArray(connection._supportedExtensions), '_supportedExtensions is an array');
  t.ok(Array.isArray(connection._recipientQueue), '_recipientQueue is an array');
});

interface Sink {
  port: number;
  recipients: SMTPServerAddress[];
  close(): Promise<void>;
}

async function startSink(options: { dsn: boolean }): Promise<Sink> {
  const recipients: SMTPServerAddress[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    hideDSN: !options.dsn,
    logger: false,
    onRcptTo(address, _session, callback) {
      recipients.push(address);
      callback();
    },
    onData(stream, _session, callback) {
      stream.on('end', () => callback());
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, recipients, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const noTls: RelayTlsOptions = { ...hardenedTlsOptions(), key: undefined, cert: undefined, ca: undefined, development: true };

/** A sink, and a pool connection to it (closed with the test). */
async function connectedTo(t: { teardown(fn: () => unknown): void }, options: { dsn: boolean }): Promise<{ sink: Sink; pool: RelayPool; connection: PeerConnection }> {
  const sink = await startSink(options);
  const config = testConfig(tempDir('mssd-relay-pool-'), (config) => {
    config.relay.requireTls = false;
  });
  const pool = new RelayPool(config, noTls);
  t.teardown(async () => {
    pool.closeAll();
    await sink.close();
  });
  return { sink, pool, connection: await pool.acquire({ host: '127.0.0.1', port: sink.port }) };
}

const message = Buffer.from('From: a@exemple.mssante.fr\r\nTo: b@chu.mssante.fr\r\nSubject: DSN\r\n\r\nBonjour\r\n');

t.test('each recipient gets its own NOTIFY and ORCPT on RCPT TO (RFC 3461 section 4)', async (t) => {
  const { sink, connection, pool } = await connectedTo(t, { dsn: true });
  t.equal(connection.offersDsn, true, 'the peer offers DSN');
  connection.dsn.set('b@chu.mssante.fr', { notify: 'SUCCESS,FAILURE', orcpt: 'rfc822;b@chu.mssante.fr' });
  connection.dsn.set('c@chu.mssante.fr', { notify: 'NEVER', orcpt: null });
  connection.dsn.set('d@chu.mssante.fr', { notify: null, orcpt: 'rfc822;d+x@chu.mssante.fr' });
  const info = await sendOn(connection, { from: 'a@exemple.mssante.fr', to: ['b@chu.mssante.fr', 'c@chu.mssante.fr', 'd@chu.mssante.fr', 'e@chu.mssante.fr'] }, message);
  pool.release(connection, true);
  t.same(info.accepted, ['b@chu.mssante.fr', 'c@chu.mssante.fr', 'd@chu.mssante.fr', 'e@chu.mssante.fr']);
  t.same(
    sink.recipients.map((rcpt) => ({ address: rcpt.address, args: rcpt.args })),
    [
      { address: 'b@chu.mssante.fr', args: { NOTIFY: 'SUCCESS,FAILURE', ORCPT: 'rfc822;b@chu.mssante.fr' } },
      { address: 'c@chu.mssante.fr', args: { NOTIFY: 'NEVER' } },
      // xtext (RFC 3461 section 4): '+' is sent as "+2B" and decoded by the peer.
      { address: 'd@chu.mssante.fr', args: { ORCPT: 'rfc822;d+x@chu.mssante.fr' } },
      { address: 'e@chu.mssante.fr', args: false },
    ],
    'RCPT TO carries each recipient\'s own parameters, none for a recipient without any',
  );
});

t.test('no DSN parameters to a peer that does not offer DSN', async (t) => {
  const { sink, connection, pool } = await connectedTo(t, { dsn: false });
  t.equal(connection.offersDsn, false, 'the peer offers no DSN');
  connection.dsn.set('b@chu.mssante.fr', { notify: 'SUCCESS', orcpt: 'rfc822;b@chu.mssante.fr' });
  await sendOn(connection, { from: 'a@exemple.mssante.fr', to: ['b@chu.mssante.fr'] }, message);
  pool.release(connection, true);
  t.same(
    sink.recipients.map((rcpt) => ({ address: rcpt.address, args: rcpt.args })),
    [{ address: 'b@chu.mssante.fr', args: false }],
  );
});
