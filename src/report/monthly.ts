// The operator's monthly activity indicators (`mssd report monthly --month YYYY-MM`), the figures
// an MSSanté operator reports to ANS: messages by direction and BAL type, boxes by type and status,
// connections by protocol and method, notices sent. Counts only: never an address or a subject.
// The month runs from its first midnight to the next month's first midnight in `schedules.timezone`.
import type { Db } from '../store/database';
import { boxCountsAt, boxesClosed, boxesCreated, loginCounts, messageCounts, noticeCounts, type Count } from '../store/report';

export interface MonthlyReport {
  month: string;
  timezone: string;
  from: string;
  to: string;
  messages: Array<{ direction: 'received' | 'sent' | 'internal' | 'patient'; type: string; count: number }>;
  boxes: Array<{ type: string; status: string; count: number }>;
  boxesCreated: Array<{ type: string; count: number }>;
  boxesClosed: Array<{ type: string; count: number }>;
  connections: Array<{ protocol: string; method: string; result: 'ok' | 'failed'; count: number }>;
  notices: Array<{ kind: string; count: number }>;
}

/** "2026-11" → [2026, 11], or null when it is not a month. */
export function parseMonth(text: string): [number, number] | null {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/** Offset (ms) of `timeZone` from UTC at `instant`. */
function zoneOffset(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(instant / 1000) * 1000;
}

/** The instant of local midnight on the first day of `month` in `timeZone`. */
export function monthStart(year: number, month: number, timeZone: string): number {
  const utc = Date.UTC(year, month - 1, 1);
  const guess = utc - zoneOffset(utc, timeZone);
  return utc - zoneOffset(guess, timeZone);
}

const flat = <K extends string>(counts: Count[], names: K[]) =>
  counts.map((c) => ({ ...(Object.fromEntries(names.map((name, i) => [name, c.key[i]])) as Record<K, string>), count: c.n }));

export function monthlyReport(db: Db, year: number, month: number, options: { timeZone: string; patientDomain: string }): MonthlyReport {
  const from = monthStart(year, month, options.timeZone);
  const to = month === 12 ? monthStart(year + 1, 1, options.timeZone) : monthStart(year, month + 1, options.timeZone);
  return {
    month: `${year}-${String(month).padStart(2, '0')}`,
    timezone: options.timeZone,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    messages: flat(messageCounts(db, from, to, options.patientDomain), ['direction', 'type']) as MonthlyReport['messages'],
    boxes: flat(boxCountsAt(db, to), ['type', 'status']),
    boxesCreated: flat(boxesCreated(db, from, to), ['type']),
    boxesClosed: flat(boxesClosed(db, from, to), ['type']),
    connections: flat(loginCounts(db, from, to), ['protocol', 'method', 'result']) as MonthlyReport['connections'],
    notices: flat(noticeCounts(db, from, to), ['kind']),
  };
}

/** Every figure as one CSV row: section,key1,key2,key3,count (RFC 4180, no quoting needed: fixed vocabularies). */
export function reportCsv(report: MonthlyReport): string {
  const rows = [['section', 'key1', 'key2', 'key3', 'count']];
  for (const m of report.messages) rows.push(['messages', m.direction, m.type, '', String(m.count)]);
  for (const b of report.boxes) rows.push(['boxes', b.type, b.status, '', String(b.count)]);
  for (const b of report.boxesCreated) rows.push(['boxes-created', b.type, '', '', String(b.count)]);
  for (const b of report.boxesClosed) rows.push(['boxes-closed', b.type, '', '', String(b.count)]);
  for (const c of report.connections) rows.push(['connections', c.protocol, c.method, c.result, String(c.count)]);
  for (const n of report.notices) rows.push(['notices', n.kind, '', '', String(n.count)]);
  const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return rows.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

const DIRECTIONS: Record<string, string> = {
  received: 'received from other operators',
  sent: 'sent to other operators',
  internal: 'exchanged inside the operator',
  patient: 'sent to patients',
};

/** A readable table per section. */
export function reportText(report: MonthlyReport): string {
  const lines = [`Monthly activity ${report.month} (${report.timezone}: ${report.from} – ${report.to})`, ''];
  const section = (title: string, header: string[], rows: string[][]) => {
    lines.push(title);
    if (rows.length === 0) {
      lines.push('  (none)', '');
      return;
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => '  ' + r.map((v, i) => (i === r.length - 1 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ');
    lines.push(fmt(header), ...rows.map(fmt), '');
  };
  section('Messages', ['direction', 'BAL type', 'messages'], report.messages.map((m) => [DIRECTIONS[m.direction] ?? m.direction, m.type, String(m.count)]));
  section('Boxes at the end of the month', ['BAL type', 'status', 'boxes'], report.boxes.map((b) => [b.type, b.status, String(b.count)]));
  section('Boxes created during the month', ['BAL type', 'boxes'], report.boxesCreated.map((b) => [b.type, String(b.count)]));
  section('Boxes closed (suspended) during the month', ['BAL type', 'boxes'], report.boxesClosed.map((b) => [b.type, String(b.count)]));
  section('Connections', ['protocol', 'method', 'result', 'logins'], report.connections.map((c) => [c.protocol, c.method, c.result, String(c.count)]));
  section('Notices sent', ['kind', 'notices'], report.notices.map((n) => [n.kind, String(n.count)]));
  return lines.join('\n').trimEnd();
}
