import t from 'tap';
import { dayNumber, dayOf, formatDateTime, parseDateTime, parseSearchDate, sentDay } from '../../../src/imap/protocol/dates';

t.test('INTERNALDATE format: space-padded day, English month, zone (RFC 3501 §9 date-time)', async (t) => {
  const instant = Date.UTC(2026, 10, 22, 22, 2, 28);
  t.equal(formatDateTime(instant), '22-Nov-2026 22:02:28 +0000');
  t.equal(formatDateTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))), ' 2-Jan-2026 03:04:05 +0000', 'date-day-fixed: SP DIGIT');
  t.equal(formatDateTime(instant, 60), '22-Nov-2026 23:02:28 +0100', 'shown in another zone');
  t.equal(formatDateTime(instant, 120), '23-Nov-2026 00:02:28 +0200', 'the day moves with the zone');
  t.equal(formatDateTime(instant, -330), '22-Nov-2026 16:32:28 -0530');
});

t.test('APPEND date-time parsing', async (t) => {
  t.equal(parseDateTime('22-Nov-2026 22:02:28 +0000')?.getTime(), Date.UTC(2026, 10, 22, 22, 2, 28));
  t.equal(parseDateTime('17-Jul-1996 02:44:25 -0700')?.toISOString(), '1996-07-17T09:44:25.000Z', 'the RFC 3501 example');
  t.equal(parseDateTime(' 2-jan-2026 03:04:05 +0100')?.toISOString(), '2026-01-02T02:04:05.000Z', 'padded day, month in any case');
  t.equal(parseDateTime('2-Jan-2026 03:04:05 +0100')?.toISOString(), '2026-01-02T02:04:05.000Z', 'unpadded day tolerated');
  for (const bad of ['31-Feb-2026 00:00:00 +0000', '22-Nov-2026 24:00:00 +0000', '22-Foo-2026 00:00:00 +0000', '22-Nov-2026 00:00:00', '22-Nov-2026', '22-Nov-2026 00:00:00 +0060', '']) {
    t.equal(parseDateTime(bad), null, JSON.stringify(bad));
  }
  const round = Date.UTC(2025, 2, 4, 8, 12, 0);
  t.equal(parseDateTime(formatDateTime(round, 60))?.getTime(), round, 'format and parse agree');
});

t.test('SEARCH dates and day numbers', async (t) => {
  t.equal(parseSearchDate('1-Feb-1994'), dayNumber(1994, 1, 1));
  t.equal(parseSearchDate('01-feb-1994'), dayNumber(1994, 1, 1));
  t.equal(parseSearchDate('1-Feb-94'), null);
  t.equal(parseSearchDate('30-Feb-2024'), null);
  t.equal(parseSearchDate('29-Feb-2024'), dayNumber(2024, 1, 29), 'leap day');
  t.equal(dayNumber(1970, 0, 1), 0);
  t.equal(dayOf(Date.UTC(2026, 4, 22, 23, 30)), dayNumber(2026, 4, 22));
  t.equal(dayOf(Date.UTC(2026, 4, 22, 23, 30), 120), dayNumber(2026, 4, 23), 'in Paris it is already the 23rd');
});

t.test('the day a Date: field names, as written (RFC 5322 §3.3)', async (t) => {
  t.equal(sentDay('Tue, 4 Mar 2025 09:12:00 +0100'), dayNumber(2025, 2, 4));
  t.equal(sentDay('4 Mar 2025 23:59:59 -1100'), dayNumber(2025, 2, 4), 'time and zone disregarded');
  t.equal(sentDay('Tue, 04 Mar 25 09:12 GMT'), dayNumber(2025, 2, 4), 'two-digit year');
  t.equal(sentDay('Tue (mardi), 4 (quatre) Mar 2025 09:12:00 +0100'), dayNumber(2025, 2, 4), 'comments');
  t.equal(sentDay('Tue, 4 March 2025 09:12:00 +0100'), dayNumber(2025, 2, 4), 'full month name');
  t.equal(sentDay('not a date'), null);
  t.equal(sentDay('32 Mar 2025'), null);
  t.equal(sentDay(''), null);
});
