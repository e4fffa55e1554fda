// The auth.* config keys (DESIGN.md contract plus auth.oauth.caFile and auth.throttle.*).
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';

function load(content: unknown) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-auth-config-'));
  const file = path.join(dir, 'mssd.json');
  writeFileSync(file, JSON.stringify(content));
  return { dir, config: () => loadConfig(file) };
}

t.test('defaults: box passwords allowed, tokens off', async (t) => {
  const { config } = load({});
  t.match(config().auth, { passwordLogins: 'account', oauth: { issuer: '', identityClaim: 'preferred_username' }, throttle: { window: '15m' } });
});

t.test('a JWKS file is relative to the config file, a URL is kept', async (t) => {
  const file = load({ auth: { oauth: { issuer: 'https://idp.example', audience: 'mssd', jwks: 'keys/jwks.json' } } });
  t.equal(file.config().auth.oauth.jwks, path.join(file.dir, 'keys', 'jwks.json'));
  const url = load({ auth: { oauth: { issuer: 'https://idp.example', audience: 'mssd', jwks: 'https://idp.example/certs' } } });
  t.equal(url.config().auth.oauth.jwks, 'https://idp.example/certs');
});

t.test('bad auth settings name the key', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ auth: { passwordLogins: 'never' } }, /auth\.passwordLogins/],
    [{ auth: { oauth: { issuer: 'https://idp.example', jwks: 'https://idp.example/certs' } } }, /auth\.oauth\.audience: required when auth\.oauth\.issuer is set/],
    [{ auth: { oauth: { issuer: 'https://idp.example', audience: 'x' } } }, /auth\.oauth\.jwks: required/],
    [{ auth: { oauth: { issuer: 'https://idp.example', audience: 'x', jwks: 'http://idp.example/certs' } } }, /auth\.oauth\.jwks: expected an https:\/\/ URL or a file path/],
    [{ auth: { throttle: { maxFailuresPerPair: 0 } } }, /auth\.throttle\.maxFailuresPerPair/],
    [{ auth: { throttle: { window: '15 minutes' } } }, /auth\.throttle\.window: expected a duration/],
  ];
  for (const [content, expected] of cases) t.throws(() => load(content).config(), expected);
});
