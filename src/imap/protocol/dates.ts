// IMAP dates: the INTERNALDATE date-time (RFC 3501 §9 date-time, used by FETCH and APPEND), the
// SEARCH date (§9 date), and the day a message says it was sent (RFC 5322 §3.3 Date: field).
// Days are counted as whole days since 1970-01-01, so date comparisons ignore time and zone.

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const MONTH_INDEX = new Map<string, number>(MONTHS.map((name, index) => [name.toLowerCase(), index]));
const MS_PER_DAY = 86400000;

/** The day number (days since 1970-01-01) of a calendar date, or null when it does not exist. */
export function dayNumber(year: number, month: number, day: number): number | null {
  if (month < 0 || month > 11 || day < 1 || day > 31) return null;
  const time = Date.UTC(year, month, day);
  if (new Date(time).getUTCDate() !== day) return null; // 31-Feb
  return Math.floor(time / MS_PER_DAY);
}

/** The day number of an instant, in the time zone `offsetMinutes` east of UTC. */
export function dayOf(time: Date | number, offsetMinutes = 0): number {
  const ms = typeof time === 'number' ? time : time.getTime();
  return Math.floor((ms + offsetMinutes * 60000) / MS_PER_DAY);
}

const two = (value: number): string => (value < 10 ? `0${value}` : String(value));

/**
 * `22-Nov-2026 22:02:28 +0000` (RFC 3501 §9 date-time, without its quotes): the day is padded
 * with a space, not a zero (date-day-fixed). The instant is shown in the zone `offsetMinutes`
 * east of UTC.
 */
export function formatDateTime(time: Date | number, offsetMinutes = 0): string {
  const ms = typeof time === 'number' ? time : time.getTime();
  const shifted = new Date(ms + offsetMinutes * 60000);
  const day = shifted.getUTCDate();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const zone = Math.abs(offsetMinutes);
  return (
    `${day < 10 ? ` ${day}` : day}-${MONTHS[shifted.getUTCMonth()]}-${shifted.getUTCFullYear()} ` +
    `${two(shifted.getUTCHours())}:${two(shifted.getUTCMinutes())}:${two(shifted.getUTCSeconds())} ` +
    `${sign}${two(Math.floor(zone / 60))}${two(zone % 60)}`
  );
}

/**
 * An APPEND date-time (RFC 3501 §9: `"dd-Mon-yyyy hh:mm:ss +zzzz"`, without its quotes) as an
 * instant, or null when invalid. A one-digit day is accepted with or without its padding space.
 */
export function parseDateTime(text: string): Date | null {
  const match = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!match) return null;
  const month = MONTH_INDEX.get(match[2].toLowerCase());
  if (month === undefined) return null;
  const year = Number(match[3]);
  const day = Number(match[1]);
  if (dayNumber(year, month, day) === null) return null;
  const [hours, minutes, seconds] = [Number(match[4]), Number(match[5]), Number(match[6])];
  const zoneHours = Number(match[8]);
  const zoneMinutes = Number(match[9]);
  if (hours > 23 || minutes > 59 || seconds > 60 || zoneMinutes > 59) return null;
  const offset = (match[7] === '-' ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  return new Date(Date.UTC(year, month, day, hours, minutes, Math.min(seconds, 59)) - offset * 60000);
}

/** A SEARCH date (RFC 3501 §9: `d-Mon-yyyy`, day of one or two digits) as a day number, or null. */
export function parseSearchDate(text: string): number | null {
  const match = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!match) return null;
  const month = MONTH_INDEX.get(match[2].toLowerCase());
  if (month === undefined) return null;
  return dayNumber(Number(match[3]), month, Number(match[1]));
}

/**
 * The day a Date: field value names, as written, whatever its time and zone (RFC 3501 §6.4.4
 * SENTBEFORE/SENTON/SENTSINCE "disregarding time and timezone"; RFC 5322 §3.3 date-time, with
 * its obsolete forms: comments, missing day of week, two-digit years). Null when unreadable.
 */
export function sentDay(value: string): number | null {
  const text = value.replace(/\([^()]*\)/g, ' ');
  const match = /(?:^|[\s,])(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{2,4})(?=\s|$)/.exec(text);
  if (!match) return null;
  const month = MONTH_INDEX.get(match[2].toLowerCase());
  if (month === undefined) return null;
  let year = Number(match[3]);
  if (match[3].length === 2) year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
  else if (match[3].length === 3) year += 1900;
  return dayNumber(year, month, Number(match[1]));
}
