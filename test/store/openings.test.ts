import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import { bareMessageId, openingStatus, recordOpening } from '../../src/store/openings';

function freshDb(t: Test): Db {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-openings-')));
  migrate(db);
  t.teardown(() => db.close());
  return db;
}

function addAccount(db: Db, type: string, login: string, mssante?: string): number {
  const id = Number(
    db
      .prepare(`INSERT INTO accounts (type, status, login, created_at, updated_at) VALUES (?, 'active', ?, 0, 0)`)
      .run(type, login).lastInsertRowid,
  );
  db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'login')`).run(login, id);
  if (mssante) db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'mssante')`).run(mssante, id);
  return id;
}

function addDelivery(
  db: Db,
  queueId: string,
  messageId: string,
  mailFrom: string,
  receivedAt: number,
  recipients: Array<[string, number | null]>,
): void {
  const id = Number(
    db
      .prepare(
        `INSERT INTO deliveries (queue_id, source, received_at, mail_from, message_id, size)
         VALUES (?, 'submission', ?, ?, ?, 100)`,
      )
      .run(queueId, receivedAt, mailFrom, messageId).lastInsertRowid,
  );
  for (const [address, accountId] of recipients) {
    db.prepare(
      `INSERT INTO delivery_recipients (delivery_id, address, account_id, outcome) VALUES (?, ?, ?, ?)`,
    ).run(id, address, accountId, accountId === null ? 'queued' : 'delivered');
  }
}

/** A message from Dr Dupont to two local colleagues and one doctor at another operator. */
function scenario(db: Db) {
  const sender = addAccount(db, 'PER', 'jean.dupont@exemple.fr', 'jean.dupont@exemple.mssante.fr');
  const alice = addAccount(db, 'PER', 'alice.martin@exemple.fr', 'alice.martin@exemple.mssante.fr');
  const bob = addAccount(db, 'MED', 'bob.durand@exemple.fr');
  addDelivery(db, 'Q1', '<abc.123@exemple.mssante.fr>', 'jean.dupont@exemple.mssante.fr', 1_000, [
    ['alice.martin@exemple.mssante.fr', alice],
    ['bob.durand@exemple.fr', bob],
    ['claire.petit@ch-autre.mssante.fr', null],
  ]);
  return { sender, alice, bob };
}

t.test('bareMessageId strips the angle brackets only', async (t) => {
  t.equal(bareMessageId('<a.b@c>'), 'a.b@c');
  t.equal(bareMessageId('  <a.b@c> '), 'a.b@c');
  t.equal(bareMessageId('a.b@c'), 'a.b@c');
});

t.test('status goes from none to some to all as local recipients open the message', async (t) => {
  const db = freshDb(t);
  const { alice, bob } = scenario(db);

  const initial = openingStatus(db, '<abc.123@exemple.mssante.fr>')!;
  t.equal(initial.status, 'none');
  t.equal(initial.messageId, '<abc.123@exemple.mssante.fr>');
  t.equal(initial.sender, 'jean.dupont@exemple.mssante.fr');
  t.equal(initial.receivedAt, 1_000);
  t.same(initial.local, [
    { address: 'alice.martin@exemple.mssante.fr', accountId: alice, login: 'alice.martin@exemple.fr', openedAt: null },
    { address: 'bob.durand@exemple.fr', accountId: bob, login: 'bob.durand@exemple.fr', openedAt: null },
  ]);
  t.same(initial.remote, [{ address: 'claire.petit@ch-autre.mssante.fr', status: 'unknown' }]);

  t.equal(recordOpening(db, '<abc.123@exemple.mssante.fr>', alice, 2_000), true);
  t.equal(openingStatus(db, 'abc.123@exemple.mssante.fr')!.status, 'some', 'found without brackets too');

  t.equal(recordOpening(db, 'abc.123@exemple.mssante.fr', alice, 9_000), false, 'only the first opening counts');
  t.equal(openingStatus(db, '<abc.123@exemple.mssante.fr>')!.local[0].openedAt, 2_000);

  t.equal(recordOpening(db, 'abc.123@exemple.mssante.fr', bob, 3_000), true);
  const done = openingStatus(db, 'abc.123@exemple.mssante.fr')!;
  t.equal(done.status, 'all', 'remote recipients do not hold the status back');
  t.same(
    done.local.map((r) => r.openedAt),
    [2_000, 3_000],
  );
});

t.test('a Message-ID stored without brackets is found and matched with openings', async (t) => {
  const db = freshDb(t);
  const alice = addAccount(db, 'PER', 'alice@exemple.fr');
  addDelivery(db, 'Q9', 'bare-id@host', 'x@ch-autre.mssante.fr', 5, [['alice@exemple.fr', alice]]);
  recordOpening(db, 'bare-id@host', alice, 6);
  t.equal(openingStatus(db, '<bare-id@host>')!.status, 'all');
});

t.test('a box reached through two addresses, or in two deliveries, counts once', async (t) => {
  const db = freshDb(t);
  const alice = addAccount(db, 'PER', 'alice@exemple.fr', 'alice@exemple.mssante.fr');
  const bob = addAccount(db, 'PER', 'bob@exemple.fr');
  addDelivery(db, 'Q1', '<m@x>', 'x@ch-autre.mssante.fr', 10, [
    ['alice@exemple.fr', alice],
    ['alice@exemple.mssante.fr', alice],
  ]);
  addDelivery(db, 'Q2', '<m@x>', 'x@ch-autre.mssante.fr', 20, [['bob@exemple.fr', bob]]);
  const status = openingStatus(db, '<m@x>')!;
  t.equal(status.local.length, 2);
  t.equal(status.receivedAt, 10, 'first reception');
  recordOpening(db, '<m@x>', alice, 30);
  t.equal(openingStatus(db, '<m@x>')!.status, 'some');
});

t.test('an unknown Message-ID has no status', async (t) => {
  const db = freshDb(t);
  scenario(db);
  t.equal(openingStatus(db, '<nope@exemple.mssante.fr>'), undefined);
  t.equal(openingStatus(db, '<>'), undefined);
  t.throws(() => recordOpening(db, '  ', 1, 0), /empty Message-ID/);
});
