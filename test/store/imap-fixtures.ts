// Fixtures for the IMAP store tests: a fresh migrated database with two persons, a secretary
// (MED), and two ORG boxes, built with the real provisioning functions.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOrgAccount, createPersonAccount } from '../../src/store/accounts';
import { addOrgMember } from '../../src/store/org-members';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import { resolveMailbox } from '../../src/store/mailbox-view';
import { luhnCompleted } from '../helpers/fixtures';

export const domains = { mssante: ['x.mssante.fr'] };

export interface World {
  db: Db;
  jean: number;
  marie: number;
  secretary: number;
  pharmacy: number;
  lab: number;
}

export const PHARMACY = 'pharmacie@x.mssante.fr';
export const LAB = 'labo@x.mssante.fr';

/** Jean (PER) and the secretary (MED) are members of the pharmacy; nobody is in the lab. */
export function freshWorld(t: { teardown(fn: () => void): void }): World {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-imap-store-')));
  migrate(db);
  t.teardown(() => db.close());
  const jean = createPersonAccount(db, domains, {
    type: 'PER',
    login: 'jean.dupont@hopital.fr',
    firstName: 'Jean',
    lastName: 'Dupont',
    rpps: '10101234567',
  }).id;
  const marie = createPersonAccount(db, domains, {
    type: 'PER',
    login: 'marie.curie@hopital.fr',
    firstName: 'Marie',
    lastName: 'Curie',
    rpps: '10101234568',
  }).id;
  const secretary = createPersonAccount(db, domains, {
    type: 'MED',
    login: 'secretariat@hopital.fr',
    firstName: 'Léa',
    lastName: 'Roux',
  }).id;
  const org = (login: string, address: string, prefix: string) =>
    createOrgAccount(db, domains, {
      login,
      address,
      name: address,
      finess: luhnCompleted(prefix),
      responsibleRpps: '10101234567',
    }).id;
  const pharmacy = org('contact@pharmacie.fr', PHARMACY, '75000001');
  const lab = org('contact@labo.fr', LAB, '75000002');
  addOrgMember(db, PHARMACY, 'jean.dupont@hopital.fr');
  addOrgMember(db, PHARMACY, 'secretariat@hopital.fr');
  return { db, jean, marie, secretary, pharmacy, lab };
}

/** The mailbox id behind a view name, failing loudly when it does not resolve. */
export function mailboxId(db: Db, user: number, name: string): number {
  const resolved = resolveMailbox(db, user, name);
  if (!resolved) throw new Error(`${name} does not resolve`);
  return resolved.mailboxId;
}

let counter = 0;
/** A small RFC 5322 message, different every call unless `text` is given. */
export function rawMessage(subject = 'Compte rendu', text?: string): Buffer {
  counter++;
  return Buffer.from(
    [
      'From: Dr Martin <martin@chu.mssante.fr>',
      'To: Jean Dupont <jean.dupont@x.mssante.fr>',
      `Subject: ${subject}`,
      `Message-ID: <m${counter}.${Date.now()}@chu.mssante.fr>`,
      'Date: Mon, 1 Jun 2026 10:00:00 +0200',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text ?? `Corps ${counter}`,
      '',
    ].join('\r\n'),
  );
}

export const count = (db: Db, sql: string, ...params: unknown[]) => (db.prepare(sql).get(...params) as { n: number }).n;

export const refcount = (db: Db, hash: string): number | undefined =>
  (db.prepare('SELECT refcount FROM bodies WHERE hash = ?').get(hash) as { refcount: number } | undefined)?.refcount;
