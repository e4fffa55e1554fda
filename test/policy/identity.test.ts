import t from 'tap';
import {
  addressWord,
  checkPassword,
  defaultMssanteLocalPart,
  isValidDomain,
  isValidEmail,
  isValidFiness,
  isValidIns,
  isValidRpps,
  luhnValid,
} from '../../src/policy/identity';

t.test('password policy: 8+ characters with upper, lower, digit and special', async (t) => {
  t.equal(checkPassword('Secr3t!pass'), null);
  t.equal(checkPassword('Élève-2024'), null, 'accented letters count as letters');
  t.match(checkPassword('Ab1!'), /at least 8 characters/);
  t.match(checkPassword('secr3t!pass'), /upper-case/);
  t.match(checkPassword('SECR3T!PASS'), /lower-case/);
  t.match(checkPassword('Secret!pass'), /digit/);
  t.match(checkPassword('Secr3tpass'), /special/);
  t.match(checkPassword('Secr3t pass'), /special/, 'a space is not a special character');
  t.match(checkPassword('Secr3t!\tpass'), /control/);
  t.match(checkPassword(`Aa1!${'x'.repeat(300)}`), /at most/);
  t.equal(checkPassword('Aa1!aaaa'), null, 'exactly 8 characters is enough');
});

t.test('RPPS is exactly 11 digits', async (t) => {
  t.ok(isValidRpps('10101234567'));
  t.notOk(isValidRpps('1010123456'));
  t.notOk(isValidRpps('101012345678'));
  t.notOk(isValidRpps('1010123456a'));
  t.notOk(isValidRpps(' 10101234567'));
});

t.test('FINESS: 9 characters with a Luhn key; Corsica on its shape', async (t) => {
  t.ok(luhnValid('79927398713'), 'the classic Luhn example');
  t.notOk(luhnValid('79927398710'));
  t.ok(isValidFiness('750000010'));
  t.ok(isValidFiness('130784721'));
  t.notOk(isValidFiness('750000011'), 'wrong key');
  t.notOk(isValidFiness('13078472'), 'too short');
  t.notOk(isValidFiness('1307847210'), 'too long');
  t.ok(isValidFiness('2A0001234'), 'Corsica 2A accepted on its shape');
  t.ok(isValidFiness('2b0001234'));
  t.notOk(isValidFiness('2C0001234'));
  t.notOk(isValidFiness('2A000123'));
});

t.test('INS: 13-character NIR + key 97 − (NIR mod 97), Corsica as 19/18', async (t) => {
  t.ok(isValidIns('180057512345627'));
  t.ok(isValidIns('285051912345680'));
  t.notOk(isValidIns('180057512345628'), 'wrong key');
  t.notOk(isValidIns('18005751234562'), 'too short');
  t.ok(isValidIns('180052A12345684'), '2A counts as 19');
  t.ok(isValidIns('180052B12345614'), '2B counts as 18');
  t.notOk(isValidIns('180052A12345614'), '2A key differs from 2B key');
  t.notOk(isValidIns('18005X512345627'));
});

t.test('email syntax: practical RFC 5321, UTF-8 local parts', async (t) => {
  for (const good of ['jean.dupont@exemple.fr', 'a+tag@sub.exemple.mssante.fr', 'élodie.martin@exemple.fr', "o'neil@x.io"]) {
    t.ok(isValidEmail(good), good);
  }
  for (const bad of [
    'jean.dupont',
    '@exemple.fr',
    'jean@localhost',
    'jean dupont@exemple.fr',
    'jean..dupont@exemple.fr',
    '.jean@exemple.fr',
    'jean@exemple..fr',
    'jean@-exemple.fr',
    'jean@exemple.f',
    '"jean"@exemple.fr',
    `${'a'.repeat(65)}@exemple.fr`,
    'jean@exemple.fr\n',
  ]) {
    t.notOk(isValidEmail(bad), JSON.stringify(bad));
  }
  t.ok(isValidDomain('xn--bcher-kva.xn--p1ai'));
  t.notOk(isValidDomain('exemple'));
});

t.test('default MSSanté local part: prenom.nom without accents', async (t) => {
  t.equal(defaultMssanteLocalPart('Jean', 'Dupont'), 'jean.dupont');
  t.equal(defaultMssanteLocalPart('Élodie', 'Lefèvre'), 'elodie.lefevre');
  t.equal(defaultMssanteLocalPart('Jean Pierre', "D'Artagnan"), 'jean-pierre.d-artagnan');
  t.equal(defaultMssanteLocalPart('Anne-Laure', 'Le  Cœur'), 'anne-laure.le-coeur');
  t.equal(defaultMssanteLocalPart('Æsa', 'Straße'), 'aesa.strasse');
  t.equal(defaultMssanteLocalPart('Zoë', 'Müller (née Dubois)'), 'zoe.muller-nee-dubois');
  t.equal(defaultMssanteLocalPart('Jean - -  Luc', 'O’Brien'), 'jean-luc.o-brien');
  t.equal(defaultMssanteLocalPart('Ioánnis', 'Çelik'), 'ioannis.celik');
  t.equal(defaultMssanteLocalPart('', 'Dupont'), 'dupont');
  t.equal(defaultMssanteLocalPart('李', '王'), '', 'nothing transliterable: caller refuses');
  t.equal(addressWord('  Marie '), 'marie');
});
