// `mssd forward …` and `mssd autoreply …`: the forwards (R7) and automatic replies (R8) of a box,
// stored here; routing acts on them when mail arrives. BOX_ADDR is any address of the box.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config/schema';
import { isAllowedDestination } from '../policy/routing-rules';
import { loadTrustSpaceFile } from '../policy/trustspace';
import { getAccount } from '../store/accounts';
import {
  addForward,
  clearAutoreply,
  MAX_AUTOREPLY_BODY_BYTES,
  removeForward,
  setAutoreply,
  type DestinationCheck,
} from '../store/box-rules';
import { findBox } from '../store/boxes';
import type { Db } from '../store/database';
import { CliError } from './context';
import { type WithContext } from './with-context';

/**
 * R1 for a forward target's domain: local, in the trust-space allowlist, or the patient domain.
 * The allowlist is read only when the target is not a local box, so a forward between local boxes
 * works even while the allowlist file is unavailable.
 */
function destinationCheck(config: Config, db: Db, target: string): DestinationCheck {
  if (findBox(db, target)) return () => true;
  let trustSpace: ReturnType<typeof loadTrustSpaceFile>;
  try {
    trustSpace = loadTrustSpaceFile(config.trustSpace.allowlistFile);
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    throw new CliError(`cannot check the trust space: ${config.trustSpace.allowlistFile}: ${reason}`);
  }
  const ownDomains = [...config.domains.mssante, ...config.domains.internal];
  return (domain) =>
    isAllowedDestination(domain, { ownDomains, patientDomain: config.trustSpace.patientDomain, trustSpace });
}

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 date or date-time, checked field by field (JavaScript's own parser silently turns
 * 2025-02-30 into 2 March). Without an offset the time is the server's local time, and a bare date
 * means 00:00 local time that day. Returns milliseconds since the epoch.
 */
export function parseIsoInstant(option: string, text: string): number {
  const match = ISO_INSTANT.exec(text.trim());
  const invalid = () => new CliError(`${option}: '${text}' is not an ISO 8601 date such as 2025-07-14 or 2025-07-14T08:00+02:00`);
  if (!match) throw invalid();
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0));
  const millis = Number((match[7] ?? '0').padEnd(3, '0'));
  const offset = match[8];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) throw invalid();
  // Day of month checked against the calendar (leap years included) in UTC, where no DST applies.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) throw invalid();
  if (offset === undefined) return new Date(year, month - 1, day, hour, minute, second, millis).getTime();
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (/^z$/i.test(offset)) return utc;
  const sign = offset.startsWith('-') ? -1 : 1;
  const [offsetHours, offsetMinutes] = [Number(offset.slice(1, 3)), Number(offset.slice(-2))];
  if (offsetHours > 14 || offsetMinutes > 59) throw invalid();
  return utc - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

/** The reply body: a readable UTF-8 text file (a leading byte-order mark is dropped). */
export function readBodyFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new CliError(`--body-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (bytes.length > MAX_AUTOREPLY_BODY_BYTES) {
    throw new CliError(`--body-file: ${file} is larger than ${MAX_AUTOREPLY_BODY_BYTES / 1024} KiB`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new CliError(`--body-file: ${file} is not valid UTF-8 text`);
  }
}

export function registerRuleCommands(program: Command, withContext: WithContext): void {
  const forward = program.command('forward').description('automatic forwards of a box (R7)');

  forward
    .command('add <box-address> <target>')
    .description('forward a copy of everything the box receives to TARGET (must be allowed by R1)')
    .action(
      withContext((ctx, _opts, [boxAddress, target]) => {
        const account = getAccount(ctx.db, boxAddress);
        const isAllowedDomain = destinationCheck(ctx.config, ctx.db, target);
        addForward(ctx.db, boxAddress, target, { isAllowedDomain, patientDomain: ctx.config.trustSpace.patientDomain });
        ctx.print({ box: account.login, target, added: true }, `${account.login} now forwards to ${target}`);
      }),
    );

  forward
    .command('remove <box-address> <target>')
    .description('stop a forward')
    .action(
      withContext((ctx, _opts, [boxAddress, target]) => {
        const account = getAccount(ctx.db, boxAddress);
        removeForward(ctx.db, boxAddress, target);
        ctx.print({ box: account.login, target, removed: true }, `${account.login} no longer forwards to ${target}`);
      }),
    );

  const autoreply = program.command('autoreply').description('automatic reply of a box (R8, RFC 3834)');

  autoreply
    .command('set <box-address>')
    .description('set (or replace) the automatic reply between two dates')
    .requiredOption('--start <iso>', 'start (ISO 8601; without an offset: server local time)')
    .requiredOption('--end <iso>', 'end, after the start')
    .requiredOption('--subject <text>', 'subject of the reply')
    .requiredOption('--body-file <file>', 'UTF-8 text file holding the body of the reply')
    .action(
      withContext((ctx, opts, [boxAddress]) => {
        const startAt = parseIsoInstant('--start', opts.start as string);
        const endAt = parseIsoInstant('--end', opts.end as string);
        if (endAt <= startAt) throw new CliError('--end must be after --start');
        const body = readBodyFile(opts.bodyFile as string);
        const account = getAccount(ctx.db, boxAddress);
        setAutoreply(ctx.db, boxAddress, { startAt, endAt, subject: opts.subject as string, body });
        const start = new Date(startAt).toISOString();
        const end = new Date(endAt).toISOString();
        ctx.print(
          { box: account.login, start, end, subject: (opts.subject as string).trim() },
          `${account.login}: automatic reply from ${start} to ${end}`,
        );
      }),
    );

  autoreply
    .command('clear <box-address>')
    .description('remove the automatic reply')
    .action(
      withContext((ctx, _opts, [boxAddress]) => {
        const account = getAccount(ctx.db, boxAddress);
        const cleared = clearAutoreply(ctx.db, boxAddress);
        ctx.print(
          { box: account.login, cleared },
          cleared ? `${account.login}: automatic reply removed` : `${account.login} had no automatic reply`,
        );
      }),
    );
}
