// Portal sessions (issue 10): a session ends after portal.sessionIdle without a request and after
// portal.sessionMaxAge however active, and at once when the account is suspended; only the
// SHA-256 of the cookie token is stored.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loadConfig } from '../../src/config/load';
import { createPersonAccount, setAccountStatus } from '../../src/store/accounts';
import { migrate, openDatabase } from '../../src/store/database';
import { SESSION_COOKIE, PortalSessions } from '../../src/web/portal/sessions';

t.test('idle timeout, absolute lifetime, suspension', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-portal-sessions-'));
  const db = openDatabase(dir);
  t.teardown(() => db.close());
  migrate(db);
  const account = createPersonAccount(db, { mssante: ['exemple.mssante.fr'] }, { type: 'PER', login: 'jean@hopital.fr', firstName: 'Jean', lastName: 'Dupont', rpps: '10000000001', passwordHash: 'x' });
  const config = loadConfig(undefined);
  config.portal.sessionIdle = '15m';
  config.portal.sessionMaxAge = '8h';
  let now = Date.UTC(2026, 11, 3, 8, 0);
  const sessions = new PortalSessions(db, config, () => now);

  const login = () => {
    let token = '';
    const reply = { setCookie: (name: string, value: string) => { if (name === SESSION_COOKIE) token = value; return reply; } } as unknown as FastifyReply;
    sessions.start(reply, account.id, 'full', 'password+totp', '127.0.0.1');
    return { cookies: { [SESSION_COOKIE]: token } } as unknown as FastifyRequest;
  };

  const request = login();
  const token = request.cookies[SESSION_COOKIE]!;
  t.notOk(JSON.stringify(db.prepare('SELECT * FROM portal_sessions').all()).includes(token), 'the token itself is not stored');
  t.equal(sessions.lookup(request).session?.login, 'jean@hopital.fr');

  // Active every 14 minutes: the idle limit never triggers, the absolute one does at 8 h.
  for (let minutes = 14; minutes < 8 * 60; minutes += 14) {
    now += 14 * 60_000;
    t.ok(sessions.lookup(request).session, `alive at ${minutes} min`);
    if (!sessions.lookup(request).session) break;
  }
  now += 14 * 60_000;
  t.same(sessions.lookup(request), { session: null, expired: true }, 'ended after sessionMaxAge however active');

  const idle = login();
  now += 15 * 60_000 + 1;
  t.same(sessions.lookup(idle), { session: null, expired: true }, 'ended after sessionIdle without a request');

  const suspended = login();
  t.ok(sessions.lookup(suspended).session);
  setAccountStatus(db, 'jean@hopital.fr', 'suspended');
  t.same(sessions.lookup(suspended), { session: null, expired: true }, 'a suspended account loses its session at its next request');
});
