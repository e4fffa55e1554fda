// Operator commands for day-to-day operations: the outbound queue, the retention purge (R10),
// opening status (R9) and the directory (R13). The work is done in src/store and src/directory;
// this module checks the arguments (R15: one line naming the problem), calls, and prints text or
// JSON (--json). `--config` and `--json` are global options declared in src/cli/main.ts.
import type { Command } from 'commander';
import { publishDirectory, type DirectoryDiff, type PublicationResult } from '../directory/publish';
import { searchLocalDirectory, type LocalDirectoryEntry, type SearchCriteria } from '../directory/search';
import type { DirectoryEntry } from '../directory/entries';
import { isValidFiness, isValidRpps } from '../policy/identity';
import { openingStatus, type OpeningStatus } from '../store/openings';
import type { PurgeReport } from '../store/purge';
import { directoryJob, fhirFeedOptions } from '../jobs/directory';
import { purgeJob, runRetention, type RetentionReport } from '../jobs/purge';
import { createLogger } from '../util/log';
import {
  deleteQueueEntry,
  findQueueEntry,
  listQueued,
  retryQueueEntry,
  type QueueEntry,
} from '../store/queue';
import { CliError } from './context';
import { parseIsoInstant } from './rules';
import type { CommandOptions, WithContext } from './with-context';
import { registerJobCommands, runJobByHand } from './jobs';

const iso = (ms: number) => new Date(ms).toISOString();

/** "3d 4h", "2h 5m", "40s": how long an entry has been waiting. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    if (rest >= size || (parts.length === 0 && size === 1)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

// ---- queue ---------------------------------------------------------------------------------

/** The JSON form of an entry: times as ISO 8601, plus its age in seconds. */
function queueEntryJson(entry: QueueEntry, now: number) {
  return {
    queueId: entry.queueId,
    kind: entry.kind,
    status: entry.status,
    mailFrom: entry.mailFrom,
    attempts: entry.attempts,
    createdAt: iso(entry.createdAt),
    nextAttemptAt: iso(entry.nextAttemptAt),
    ageSeconds: Math.max(0, Math.floor((now - entry.createdAt) / 1000)),
    size: entry.size,
    deliveryId: entry.deliveryId,
    envid: entry.envid,
    ret: entry.ret,
    recipients: entry.recipients.map((rcpt) => ({
      address: rcpt.address,
      status: rcpt.status,
      notify: rcpt.notify,
      orcpt: rcpt.orcpt,
      lastReply: rcpt.lastReply,
      updatedAt: iso(rcpt.updatedAt),
    })),
  };
}

const senderText = (mailFrom: string) => (mailFrom === '' ? '<>' : mailFrom);

function queueListText(entries: QueueEntry[], now: number): string {
  if (entries.length === 0) return 'queue is empty';
  const lines: string[] = [];
  for (const entry of entries) {
    lines.push(
      `${entry.queueId}  ${entry.kind}  from ${senderText(entry.mailFrom)}  attempts ${entry.attempts}  ` +
        `next ${iso(entry.nextAttemptAt)}  age ${formatAge(now - entry.createdAt)}`,
    );
    for (const rcpt of entry.recipients) lines.push(`  ${rcpt.address}  ${rcpt.status}`);
  }
  lines.push(`${entries.length} queued entr${entries.length === 1 ? 'y' : 'ies'}`);
  return lines.join('\n');
}

function queueShowText(entry: QueueEntry, now: number): string {
  const lines = [
    `queue id:      ${entry.queueId}`,
    `kind:          ${entry.kind}`,
    `status:        ${entry.status}`,
    `from:          ${senderText(entry.mailFrom)}`,
    `size:          ${entry.size} bytes`,
    `created:       ${iso(entry.createdAt)} (${formatAge(now - entry.createdAt)} ago)`,
    `attempts:      ${entry.attempts}`,
    `next attempt:  ${entry.status === 'queued' ? iso(entry.nextAttemptAt) : '-'}`,
  ];
  if (entry.envid) lines.push(`envid:         ${entry.envid}`);
  if (entry.ret) lines.push(`ret:           ${entry.ret}`);
  lines.push('recipients:');
  for (const rcpt of entry.recipients) {
    lines.push(`  ${rcpt.address}  ${rcpt.status}${rcpt.notify ? `  notify=${rcpt.notify}` : ''}`);
    lines.push(`    last reply: ${rcpt.lastReply ?? '(none yet)'}`);
  }
  return lines.join('\n');
}

function requireQueueId(id: string): string {
  const trimmed = id.trim();
  if (trimmed === '') throw new CliError('queue ID must not be empty');
  return trimmed;
}

function registerQueueCommands(program: Command, withContext: WithContext): void {
  const queue = program.command('queue').description('inspect and act on the outbound queue');

  queue
    .command('list')
    .description('queued entries: kind, sender, recipients and their status, attempts, next attempt, age')
    .action(
      withContext((ctx) => {
        const now = Date.now();
        const entries = listQueued(ctx.db);
        ctx.print({ entries: entries.map((entry) => queueEntryJson(entry, now)) }, queueListText(entries, now));
      }),
    );

  queue
    .command('show')
    .description('one entry with every recipient and its last reply')
    .argument('<id>', 'queue ID')
    .action(
      withContext((ctx, _opts, [id]) => {
        const queueId = requireQueueId(id);
        const entry = findQueueEntry(ctx.db, queueId);
        if (!entry) throw new CliError(`unknown queue ID: ${queueId}`);
        const now = Date.now();
        ctx.print(queueEntryJson(entry, now), queueShowText(entry, now));
      }),
    );

  queue
    .command('retry')
    .description('make a queued entry due now')
    .argument('<id>', 'queue ID')
    .action(
      withContext((ctx, _opts, [id]) => {
        const queueId = requireQueueId(id);
        const now = Date.now();
        const outcome = retryQueueEntry(ctx.db, queueId, now);
        if (outcome === 'unknown') throw new CliError(`unknown queue ID: ${queueId}`);
        if (outcome === 'done') throw new CliError(`queue entry ${queueId} is already done: nothing to retry`);
        ctx.print({ queueId, nextAttemptAt: iso(now) }, `queue entry ${queueId} is due now`);
      }),
    );

  queue
    .command('delete')
    .description('remove an entry (its recipients get no delivery and no DSN)')
    .argument('<id>', 'queue ID')
    .action(
      withContext((ctx, _opts, [id]) => {
        const queueId = requireQueueId(id);
        if (!deleteQueueEntry(ctx.db, queueId)) throw new CliError(`unknown queue ID: ${queueId}`);
        ctx.print({ queueId, deleted: true }, `queue entry ${queueId} deleted`);
      }),
    );
}

// ---- jobs run by hand -----------------------------------------------------------------------

/**
 * Runs a scheduled job here and now, through the same runner as the daemon's scheduler: it waits
 * for no one and refuses when the same job is under way (in the daemon or another CLI), and the
 * run is recorded in job_runs like a scheduled one. Job log lines stay out of the CLI's output.
 */
// ---- purge (R10) ---------------------------------------------------------------------------

function purgeText(report: PurgeReport): string {
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const lines = [`messages that arrived at or before ${report.cutoff} (${report.retentionDays} days)`];
  for (const box of report.boxes) {
    const folders = Object.entries(box.mailboxes)
      .map(([name, count]) => `${name} ${count}`)
      .join(', ');
    lines.push(`  ${box.box}: ${box.total} (${folders})`);
  }
  lines.push(`${verb} ${report.total} message(s)${report.dryRun ? ' (dry run: nothing deleted)' : ''}`);
  return lines.join('\n');
}

function retentionText(report: RetentionReport): string {
  const { housekeeping: h } = report;
  const verb = report.messages.dryRun ? 'would delete' : 'deleted';
  return [
    purgeText(report.messages),
    `${verb} ${h.auditRows} audit row(s) and ${h.jobRuns} job run(s) from before ${h.auditCutoff}`,
    `${verb} ${h.queueEntries} finished queue entr${h.queueEntries === 1 ? 'y' : 'ies'} from before ${h.queueCutoff}`,
  ].join('\n');
}

function registerPurgeCommand(program: Command, withContext: WithContext): void {
  program
    .command('purge')
    .description(`delete every message older than retention.days, in every folder of every box (R10)`)
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .option('--now <iso>', 'take this instant as now (ISO 8601; without an offset: server local time)')
    .action(
      withContext(async (ctx, opts: CommandOptions) => {
        const now = typeof opts.now === 'string' ? new Date(parseIsoInstant('--now', opts.now)) : new Date();
        if (opts.dryRun === true) {
          const report = await runRetention(ctx.db, ctx.config, { now, dryRun: true, source: 'cli' });
          ctx.print({ ...report.messages, housekeeping: report.housekeeping }, retentionText(report));
          return;
        }
        // The same job as the nightly schedule, under the same lock: never two purges at once.
        const { result, runId } = await runJobByHand(ctx, purgeJob({ config: ctx.config, db: ctx.db, log: createLogger('silent') }), now);
        ctx.print({ ...result.messages, housekeeping: result.housekeeping, jobRunId: runId }, retentionText(result));
      }),
    );
}

// ---- message status (R9) -------------------------------------------------------------------

function openingText(status: OpeningStatus): string {
  const opened = status.local.filter((rcpt) => rcpt.openedAt !== null).length;
  const lines = [
    `${status.messageId}  from ${senderText(status.sender)}  received ${iso(status.receivedAt)}`,
    `status: ${status.status} (opened by ${opened} of ${status.local.length} local recipient(s))`,
  ];
  for (const rcpt of status.local) {
    lines.push(`  ${rcpt.address}  ${rcpt.openedAt === null ? 'not opened' : `opened ${iso(rcpt.openedAt)}`}`);
  }
  for (const rcpt of status.remote) lines.push(`  ${rcpt.address}  unknown (other operator)`);
  return lines.join('\n');
}

function registerMessageCommands(program: Command, withContext: WithContext): void {
  const message = program.command('message').description('messages that went through this server');
  message
    .command('status')
    .description('opening status of a message over its local recipients (R9)')
    .argument('<message-id>', 'Message-ID, with or without angle brackets')
    .action(
      withContext((ctx, _opts, [messageId]) => {
        if (messageId.trim().replace(/^<|>$/g, '') === '') throw new CliError('MESSAGE-ID must not be empty');
        const status = openingStatus(ctx.db, messageId);
        if (!status) throw new CliError(`unknown Message-ID: ${messageId.trim()}`);
        ctx.print(
          {
            ...status,
            receivedAt: iso(status.receivedAt),
            local: status.local.map((rcpt) => ({
              ...rcpt,
              openedAt: rcpt.openedAt === null ? null : iso(rcpt.openedAt),
            })),
          },
          openingText(status),
        );
      }),
    );
}

// ---- directory (R13) -----------------------------------------------------------------------

function entryLabel(entry: DirectoryEntry): string {
  const name = [entry.firstName, entry.lastName].filter(Boolean).join(' ');
  return `${entry.address} (${entry.type}${entry.identifier ? ` ${entry.identifier}` : ''}${name ? `, ${name}` : ''})`;
}

function diffText(diff: DirectoryDiff): string[] {
  const lines: string[] = [];
  for (const entry of diff.created) lines.push(`  + ${entryLabel(entry)}`);
  for (const { before, after } of diff.updated) {
    const changed = (Object.keys(after) as Array<keyof DirectoryEntry>)
      .filter((field) => before[field] !== after[field])
      .map((field) => `${field}: ${JSON.stringify(before[field])} → ${JSON.stringify(after[field])}`);
    lines.push(`  ~ ${after.address}: ${changed.join(', ')}`);
  }
  for (const entry of diff.removed) lines.push(`  - ${entryLabel(entry)}`);
  return lines;
}

function publishText(result: PublicationResult): string {
  const since = result.since ? `since ${result.since}` : 'first publication';
  const lines = [
    `${result.entries} entr${result.entries === 1 ? 'y' : 'ies'} to publish (${since}): ` +
      `${result.created} created, ${result.updated} updated, ${result.removed} removed`,
    ...diffText(result.diff),
  ];
  if (result.fhir) {
    const f = result.fhir;
    lines.push(
      `FHIR feed (${f.channel}): ${f.requests} request(s): ${f.inserted} insert, ${f.replaced} replace, ${f.deleted} delete` +
        (result.dryRun ? '' : `; ${f.accepted} accepted, ${f.failed.length} pending for the next run`),
    );
    for (const failure of f.failed) lines.push(`  pending ${failure.address}: ${failure.reason}`);
  }
  if (result.dryRun) lines.push('dry run: nothing written, nothing recorded');
  else for (const file of result.written) lines.push(/^https:/.test(file) ? `sent to ${file}` : `wrote ${file}`);
  return lines.join('\n');
}

/** Each option of `directory search`, its criterion, and what a valid value looks like. */
const SEARCH_OPTIONS: Array<{ flags: string; key: keyof SearchCriteria; description: string; check?: (v: string) => string | null }> = [
  { flags: '--name <name>', key: 'name', description: 'words of the first, last or organisation name' },
  { flags: '--first-name <name>', key: 'firstName', description: 'part of the first name' },
  {
    flags: '--rpps <n>',
    key: 'rpps',
    description: 'RPPS number (11 digits)',
    check: (v) => (isValidRpps(v) ? null : 'expected an RPPS number of 11 digits'),
  },
  {
    flags: '--finess <n>',
    key: 'finess',
    description: 'FINESS number (9 characters)',
    check: (v) => (isValidFiness(v) ? null : 'expected a valid FINESS number of 9 characters'),
  },
  { flags: '--profession <p>', key: 'profession', description: 'part of the profession' },
  { flags: '--structure <s>', key: 'structure', description: 'part of the structure, service or organisation name' },
  { flags: '--city <c>', key: 'city', description: 'part of the city' },
  {
    flags: '--postcode <p>',
    key: 'postcode',
    description: 'postcode, or its beginning',
    check: (v) => (/^\d{1,5}$/.test(v) ? null : 'expected up to 5 digits'),
  },
  {
    flags: '--department <d>',
    key: 'department',
    description: 'département: 2 digits, 2A/2B for Corsica, 971-976 overseas',
    check: (v) =>
      /^(0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97[1-8]|98\d)$/i.test(v)
        ? null
        : 'expected a département such as 75, 2A, 2B or 971',
  },
  { flags: '--address <a>', key: 'address', description: 'part of an address of the box' },
];

/** Option name (as commander stores it) → criterion, every value trimmed and checked. */
function searchCriteria(opts: CommandOptions): SearchCriteria {
  const criteria: SearchCriteria = {};
  for (const option of SEARCH_OPTIONS) {
    const flag = option.flags.split(' ')[0];
    const raw = opts[option.key];
    if (raw === undefined) continue;
    const value = String(raw).trim();
    if (value === '') throw new CliError(`${flag}: must not be empty`);
    const problem = option.check?.(value);
    if (problem) throw new CliError(`${flag}: '${value}': ${problem}`);
    criteria[option.key] = value;
  }
  return criteria;
}

function searchText(entries: LocalDirectoryEntry[]): string {
  if (entries.length === 0) return 'no match';
  const lines: string[] = [];
  for (const entry of entries) {
    const name = entry.type === 'ORG' ? entry.name : [entry.firstName, entry.lastName].filter(Boolean).join(' ');
    const addresses = [entry.login, ...entry.mssanteAddresses.filter((a) => a.toLowerCase() !== entry.login.toLowerCase())];
    lines.push(`${name ?? ''}  ${entry.type}  ${addresses.join(', ')}`);
    const details = [
      entry.rpps && `RPPS ${entry.rpps}`,
      entry.finess && `FINESS ${entry.finess}`,
      entry.profession,
      entry.structure,
      entry.service,
      [entry.postcode, entry.city].filter(Boolean).join(' '),
    ].filter(Boolean);
    if (details.length) lines.push(`  ${details.join(' · ')}`);
    for (const org of entry.organisations) lines.push(`  member of ${org.name ?? ''} <${org.address}>`);
  }
  lines.push(`${entries.length} match${entries.length === 1 ? '' : 'es'}`);
  return lines.join('\n');
}

function registerDirectoryCommands(program: Command, withContext: WithContext): void {
  const directory = program.command('directory').description('local and national directory (R13)');

  directory
    .command('publish')
    .description('compute the national directory entries and publish the diff since the last publication')
    .option('--dry-run', 'print the diff; write and record nothing')
    .action(
      withContext(async (ctx, opts) => {
        if (opts.dryRun === true) {
          const result = await publishDirectory(ctx.db, { dryRun: true, senders: [], fhir: fhirFeedOptions(ctx.config, { log: createLogger('silent') }) });
          ctx.print(result, publishText(result));
          return;
        }
        // The nightly job itself: endpoint (when set) then files, under the job lock.
        const { result } = await runJobByHand(ctx, directoryJob({ config: ctx.config, db: ctx.db, log: createLogger('silent') }));
        ctx.print(result, publishText(result));
      }),
    );

  const search = directory
    .command('search')
    .description('search the local directory (boxes visible in it), case- and accent-insensitively');
  for (const option of SEARCH_OPTIONS) search.option(option.flags, option.description);
  search.action(
    withContext((ctx, opts) => {
      const entries = searchLocalDirectory(ctx.db, searchCriteria(opts));
      ctx.print({ entries }, searchText(entries));
    }),
  );
}

/** Registers queue, purge, message and directory commands on the program. */
export function registerOperationsCommands(program: Command, withContext: WithContext): void {
  registerQueueCommands(program, withContext);
  registerPurgeCommand(program, withContext);
  registerMessageCommands(program, withContext);
  registerDirectoryCommands(program, withContext);
  registerJobCommands(program, withContext);
}
