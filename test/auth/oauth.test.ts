// Bearer tokens (issue 11): the verifier's checks one by one, the JWKS fetched over HTTPS and again
// for an unknown key id, a JWKS file, and the identity rules of Authenticator.authenticateToken.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Authenticator } from '../../src/auth/authenticator';
import { rppsFromNationalId, TokenVerifier } from '../../src/auth/oauth';
import { createOrgAccount, createPersonAccount, setAccountStatus } from '../../src/store/accounts';
import { addOrgMember } from '../../src/store/org-members';
import { migrate, openDatabase } from '../../src/store/database';
import { createLogger } from '../../src/util/log';
import { AUDIENCE, ISSUER, newKey, signToken, startJwksServer } from '../helpers/oauth';

const settings = { issuer: ISSUER, audience: AUDIENCE, identityClaim: 'preferred_username' };

t.test('national ids', async (t) => {
  t.equal(rppsFromNationalId('810000000001'), '10000000001');
  t.equal(rppsFromNationalId('10000000001'), '10000000001');
  t.equal(rppsFromNationalId('310000000001'), null, 'ADELI-based ids are not RPPS');
  t.equal(rppsFromNationalId(undefined), null);
});

t.test('verifier over an https JWKS', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-oauth-'));
  const first = await newKey('k1');
  const server = await startJwksServer(dir, [first]);
  t.teardown(() => server.close());
  const { readFileSync } = await import('node:fs');
  const verifier = new TokenVerifier({ ...settings, jwks: server.url }, { ca: [readFileSync(server.caFile, 'utf8')] });

  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: first })), { ok: true, rpps: '10000000001' });
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: first, expiresIn: -120 })), { ok: false, reason: 'expired' });
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: first, expiresIn: -20 })), { ok: true }, 'small clock skew tolerated');
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: first, audience: 'other' })), { ok: false, reason: 'wrong-audience' });
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: first, issuer: 'https://evil.example' })), { ok: false, reason: 'wrong-issuer' });
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: first, notBefore: 600 })), { ok: false, reason: 'not-yet-valid' });
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: first, claim: 'other' })), { ok: false, reason: 'no-identity' });
  t.match(await verifier.verify('not.a.token'), { ok: false, reason: 'malformed' });
  const stranger = await newKey('k1'); // same kid, another key: a forged signature
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: stranger })), { ok: false, reason: 'bad-signature' });
  const unknown = await newKey('k-unknown');
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: unknown })), { ok: false, reason: 'unknown-key' });

  // HS256 with the public key as secret (the classic confusion) is refused by the allow-list.
  const jose = await import('jose');
  const hs = await new jose.SignJWT({ preferred_username: '810000000001' })
    .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode('secret-secret-secret-secret-secret'));
  t.match(await verifier.verify(hs), { ok: false });
});

t.test('key rotation: an unknown kid fetches the set again', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-oauth-'));
  const first = await newKey('old');
  const server = await startJwksServer(dir, [first]);
  t.teardown(() => server.close());
  const { readFileSync } = await import('node:fs');
  const verifier = new TokenVerifier({ ...settings, jwks: server.url }, { ca: [readFileSync(server.caFile, 'utf8')] }, 0);
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: first })), { ok: true });
  const fetched = server.requests;
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: first })), { ok: true });
  t.equal(server.requests, fetched, 'cached');
  const next = await newKey('new');
  server.keys = [first, next];
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key: next })), { ok: true }, 'new key found');
  t.equal(server.requests, fetched + 1);
});

t.test('untrusted JWKS certificate: unverifiable, not invalid', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-oauth-'));
  const key = await newKey('k');
  const server = await startJwksServer(dir, [key]);
  t.teardown(() => server.close());
  const verifier = new TokenVerifier({ ...settings, jwks: server.url }, {});
  t.match(await verifier.verify(await signToken({ rpps: '10000000001', key })), { ok: false, reason: 'jwks-unavailable' });
});

t.test('authenticateToken: whose box the token opens', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-oauth-'));
  const key = await newKey('k');
  const jwksFile = path.join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
  const db = openDatabase(path.join(dir, 'data'));
  migrate(db);
  t.teardown(() => db.close());
  const domains = { mssante: ['exemple.mssante.fr'] };
  const jean = createPersonAccount(db, domains, { type: 'PER', login: 'jean@hopital.fr', firstName: 'Jean', lastName: 'Dupont', rpps: '10000000001' });
  createPersonAccount(db, domains, { type: 'PER', login: 'anne@hopital.fr', firstName: 'Anne', lastName: 'Roy', rpps: '10000000002' });
  const org = createOrgAccount(db, domains, { login: 'pharma@hopital.fr', address: 'pharmacie@exemple.mssante.fr', name: 'Pharmacie', finess: '750000010', responsibleRpps: '10000000001' });
  addOrgMember(db, 'pharmacie@exemple.mssante.fr', 'jean@hopital.fr');
  const auth = new Authenticator(db, createLogger('silent'), { tokens: new TokenVerifier({ ...settings, jwks: jwksFile }) });
  const jeanToken = await signToken({ rpps: '10000000001', key });

  t.match(await auth.authenticateToken('jean.dupont@exemple.mssante.fr', jeanToken, '10.0.0.1', 'imap'), { ok: true, account: { accountId: jean.id, method: 'token' } });
  t.match(await auth.authenticateToken(null, jeanToken, '10.0.0.1', 'imap'), { ok: true, account: { accountId: jean.id } }, 'no login named: the only box of that RPPS');
  t.match(await auth.authenticateToken('anne@hopital.fr', jeanToken, '10.0.0.1', 'imap'), { ok: false, reason: 'token-invalid', tokenRefusal: 'other-professional' });
  t.match(await auth.authenticateToken('pharmacie@exemple.mssante.fr', jeanToken, '10.0.0.1', 'imap'), { ok: true, account: { accountId: org.id, type: 'ORG', personId: jean.id } }, 'a linked person opens the ORG box');
  const anneToken = await signToken({ rpps: '10000000002', key });
  t.match(await auth.authenticateToken('pharmacie@exemple.mssante.fr', anneToken, '10.0.0.1', 'imap'), { ok: false, tokenRefusal: 'other-professional' }, 'not linked');
  setAccountStatus(db, 'jean@hopital.fr', 'suspended');
  t.match(await auth.authenticateToken('jean@hopital.fr', jeanToken, '10.0.0.1', 'imap'), { ok: false, reason: 'account-suspended' });
  const row = db.prepare("SELECT outcome, detail FROM audit WHERE event = 'login' ORDER BY id DESC LIMIT 1").get() as { outcome: string; detail: string };
  t.same(row, { outcome: 'account-suspended', detail: JSON.stringify({ method: 'token' }) });
});

t.test('a token without a box name and several boxes for that RPPS: the client must name one', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-oauth-'));
  const key = await newKey('k');
  const jwksFile = path.join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
  const db = openDatabase(path.join(dir, 'data'));
  migrate(db);
  t.teardown(() => db.close());
  const domains = { mssante: ['exemple.mssante.fr'] };
  createPersonAccount(db, domains, { type: 'PER', login: 'jean@hopital.fr', firstName: 'Jean', lastName: 'Dupont', rpps: '10000000001' });
  createPersonAccount(db, domains, { type: 'PER', login: 'jean@clinique.fr', firstName: 'Jean', lastName: 'Dupont', rpps: '10000000001', mssanteAddress: 'jean.dupont.clinique@exemple.mssante.fr' });
  const auth = new Authenticator(db, createLogger('silent'), { tokens: new TokenVerifier({ ...settings, jwks: jwksFile }) });
  const token = await signToken({ rpps: '10000000001', key });
  t.match(await auth.authenticateToken(null, token, '10.0.0.1', 'imap'), { ok: false, reason: 'token-invalid', tokenRefusal: 'no-box' });
  t.match(await auth.authenticateToken('jean@clinique.fr', token, '10.0.0.1', 'imap'), { ok: true, account: { login: 'jean@clinique.fr' } });
});
