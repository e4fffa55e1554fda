import t from 'tap';
import { hashPassword, needsRehash, SCRYPT_PARAMS, verifyPassword } from '../../src/policy/password';

t.test('hash is self-describing and salted per password', async (t) => {
  const a = await hashPassword('Secr3t!pass');
  const b = await hashPassword('Secr3t!pass');
  t.match(a, new RegExp(`^scrypt\\$${SCRYPT_PARAMS.N}\\$${SCRYPT_PARAMS.r}\\$${SCRYPT_PARAMS.p}\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$`));
  t.not(a, b, 'two hashes of the same password differ (random salt)');
  t.notOk(a.includes('Secr3t'), 'the password does not appear');
  t.notOk(needsRehash(a));
});

t.test('verify accepts the password and nothing else', async (t) => {
  const stored = await hashPassword('Élève-2024!');
  t.ok(await verifyPassword('Élève-2024!', stored));
  t.ok(await verifyPassword('E\u0301le\u0300ve-2024!', stored), 'Unicode normalisation: NFD input matches');
  t.notOk(await verifyPassword('élève-2024!', stored));
  t.notOk(await verifyPassword('', stored));
});

t.test('no hash, or a malformed one, never matches', async (t) => {
  t.notOk(await verifyPassword('x', null));
  t.notOk(await verifyPassword('x', undefined));
  t.notOk(await verifyPassword('x', ''));
  t.notOk(await verifyPassword('x', 'bcrypt$whatever'));
  t.notOk(await verifyPassword('x', 'scrypt$1000$8$1$c2FsdA==$aGFzaA=='), 'N not a power of two');
  t.notOk(await verifyPassword('x', `scrypt$${1 << 24}$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==`), 'N too large');
  t.ok(needsRehash('scrypt$4096$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA=='));
});

t.test('hashes written with other parameters still verify', async (t) => {
  // Simulate an older, cheaper hash: rewrite N in an encoding produced with N=1024.
  const { scryptSync, randomBytes } = await import('node:crypto');
  const salt = randomBytes(16);
  const hash = scryptSync('Old-Passw0rd', salt, 32, { N: 1024, r: 8, p: 1 });
  const encoded = `scrypt$1024$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
  t.ok(await verifyPassword('Old-Passw0rd', encoded));
  t.ok(needsRehash(encoded));
});
