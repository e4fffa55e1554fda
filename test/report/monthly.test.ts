// The month's boundaries in schedules.timezone, and boxes counted as they stood at the end of a
// past month (the audit trail undoes the later changes).
import t from 'tap';
import { monthStart, monthlyReport, parseMonth } from '../../src/report/monthly';
import { freshDb } from '../jobs/fixtures';
import { createPersonAccount, setAccountStatus, changeAccountType } from '../../src/store/accounts';

t.test('month boundaries: local midnight, daylight saving included', async (t) => {
  t.equal(new Date(monthStart(2026, 3, 'Europe/Paris')).toISOString(), '2026-02-28T23:00:00.000Z', 'winter time (UTC+1)');
  t.equal(new Date(monthStart(2026, 4, 'Europe/Paris')).toISOString(), '2026-03-31T22:00:00.000Z', 'summer time (UTC+2)');
  t.equal(new Date(monthStart(2026, 11, 'UTC')).toISOString(), '2026-11-01T00:00:00.000Z');
  t.equal(new Date(monthStart(2027, 1, 'America/New_York')).toISOString(), '2027-01-01T05:00:00.000Z');
  t.same([parseMonth('2026-11'), parseMonth('2026-00'), parseMonth('26-11'), parseMonth('2026-11-01')], [[2026, 11], null, null, null]);
});

t.test('boxes at the end of a past month: status and type as they were then', async (t) => {
  const db = freshDb(t);
  const domains = { mssante: ['exemple.mssante.fr'] };
  createPersonAccount(db, domains, { type: 'MED', login: 'sec@exemple.fr', firstName: 'Sam', lastName: 'Sec' });
  createPersonAccount(db, domains, { type: 'PER', login: 'per@exemple.fr', firstName: 'Pat', lastName: 'Per', rpps: '10101234567' });
  // Both boxes date from October; November changed them.
  db.prepare('UPDATE accounts SET created_at = ?').run(Date.UTC(2026, 9, 10));
  db.prepare(`UPDATE audit SET at = ? WHERE outcome = 'created'`).run(Date.UTC(2026, 9, 10));
  changeAccountType(db, domains, 'sec@exemple.fr', 'PER', { rpps: '10101234568' });
  setAccountStatus(db, 'per@exemple.fr', 'suspended');
  db.prepare(`UPDATE audit SET at = ? WHERE outcome IN ('type-changed', 'suspended')`).run(Date.UTC(2026, 10, 5));
  const options = { timeZone: 'UTC', patientDomain: 'patient.mssante.fr' };

  const october = monthlyReport(db, 2026, 10, options);
  t.same(october.boxes, [{ type: 'MED', status: 'active', count: 1 }, { type: 'PER', status: 'active', count: 1 }], 'as they were on 31 October');
  t.same(october.boxesCreated, [{ type: 'MED', count: 1 }, { type: 'PER', count: 1 }]);
  t.same(october.boxesClosed, []);
  const november = monthlyReport(db, 2026, 11, options);
  t.same(november.boxes, [{ type: 'PER', status: 'active', count: 1 }, { type: 'PER', status: 'suspended', count: 1 }]);
  t.same(november.boxesCreated, []);
  t.same(november.boxesClosed, [{ type: 'PER', count: 1 }]);
  t.same(monthlyReport(db, 2026, 9, options).boxes, [], 'before they existed');
});
