// The date-time format of message headers (Date:, Received:, DSN and notice headers).
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** RFC 5322 section 3.3 date-time, in UTC. */
export function rfc5322Date(date: Date): string {
  return (
    `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

const MONTH_INDEX = new Map(MONTHS.map((name, index) => [name.toLowerCase(), index]));
/** RFC 5322 section 4.3 obsolete zones; other letters count as +0000. */
const ZONES: Record<string, number> = { ut: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420 };

/**
 * The instant a Date: field names (RFC 5322 section 3.3 date-time, obsolete forms accepted:
 * comments, no day of week, two-digit years, named zones), in milliseconds, or null when it
 * cannot be read. SORT (DATE) and THREAD fall back to the internal date then (RFC 5256).
 */
export function parseMessageDate(value: string): number | null {
  const text = value.replace(/\([^()]*\)/g, ' ');
  const match = /(?:^|[\s,])(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([+-])(\d{2})(\d{2})|\s*([A-Za-z]+))?/.exec(text);
  if (!match) return null;
  const month = MONTH_INDEX.get(match[2].toLowerCase());
  if (month === undefined) return null;
  let year = Number(match[3]);
  if (match[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (match[3].length === 3) year += 1900;
  const [day, hours, minutes, seconds] = [Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6] ?? 0)];
  if (day < 1 || day > 31 || hours > 23 || minutes > 59 || seconds > 60) return null;
  let offset = 0;
  if (match[7]) offset = (match[7] === '-' ? -1 : 1) * (Number(match[8]) * 60 + Number(match[9]));
  else if (match[10]) offset = ZONES[match[10].toLowerCase()] ?? 0;
  const time = Date.UTC(year, month, day, hours, minutes, Math.min(seconds, 59)) - offset * 60_000;
  return Number.isFinite(time) ? time : null;
}
