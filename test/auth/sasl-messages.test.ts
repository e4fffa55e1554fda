// Client responses of OAUTHBEARER (RFC 7628 section 3.1) and XOAUTH2.
import t from 'tap';
import { parseOAuthBearer, parseXOAuth2 } from '../../src/auth/sasl-messages';

t.test('OAUTHBEARER', async (t) => {
  t.same(parseOAuthBearer('n,a=jean@hopital.fr,\x01host=imap.example\x01port=993\x01auth=Bearer eyJ.a.b\x01\x01'), { authzid: 'jean@hopital.fr', token: 'eyJ.a.b' });
  t.same(parseOAuthBearer('n,,\x01auth=Bearer tok\x01\x01'), { authzid: null, token: 'tok' }, 'no authzid');
  t.same(parseOAuthBearer('n,a=we=2Cird=3D@x.fr,\x01auth=bearer tok\x01\x01'), { authzid: 'we,ird=@x.fr', token: 'tok' }, 'RFC 5801 escapes, any case of Bearer');
  t.equal(parseOAuthBearer('n,a=x,\x01auth=Basic abc\x01\x01'), null);
  t.equal(parseOAuthBearer('garbage'), null);
  t.equal(parseOAuthBearer('p=tls-unique,,\x01auth=Bearer tok\x01\x01'), null, 'channel binding not offered');
});

t.test('XOAUTH2', async (t) => {
  t.same(parseXOAuth2('user=jean@hopital.fr\x01auth=Bearer tok\x01\x01'), { user: 'jean@hopital.fr', token: 'tok' });
  t.equal(parseXOAuth2('user=jean@hopital.fr\x01\x01'), null);
  t.equal(parseXOAuth2('auth=Bearer tok\x01\x01'), null);
});
