// `mssd backup DEST`, `mssd verify`, `mssd restore SRC` (DESIGN.md "Operator CLI"). The work is
// in src/store/backup.ts; this module checks the arguments and the daemon's presence (the
// instance lock of src/util/instance-lock.ts) and prints text or JSON.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { backupStore, BackupRefused, restoreStore, verifyStore, type VerifyReport } from '../store/backup';
import { acquireInstanceLock, AlreadyRunningError } from '../util/instance-lock';
import { CliError, makePrinter } from './context';
import { CommandFailed, loadCommandConfig, reportError, type CommandOptions, type WithContext } from './with-context';

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Backup and verify are background work: they yield the CPU to the daemon (nice 10). */
function lowerPriority(): void {
  try {
    os.setPriority(Math.max(os.getPriority(), 10));
  } catch {
    // not permitted here: run at the normal priority
  }
}

function verifyText(report: VerifyReport): string {
  const head = `integrity: ${report.integrity === 'ok' ? 'ok' : 'FAILED'}; ${report.bodies} bodies (${mib(report.bodyBytes)}) checked against their SHA-256; ${report.messages} messages, ${report.queueEntries} queue entries`;
  if (report.ok) return `${head}\nverify: ok`;
  return [head, ...report.problems.map((p) => `problem: ${p.kind} ${p.subject}: ${p.detail}`)].join('\n');
}

async function refusalsAsCliErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BackupRefused) throw new CliError(err.message);
    throw err;
  }
}

export function registerBackupCommands(program: Command, withContext: WithContext): void {
  program
    .command('backup <dest>')
    .description('online, consistent copy of the store (bodies included) into the new directory DEST, while the daemon serves')
    .action(
      withContext(async (ctx, _opts, [dest]) => {
        lowerPriority();
        const target = path.resolve(String(dest));
        const started = Date.now();
        const manifest = await refusalsAsCliErrors(() => backupStore(ctx.db, target));
        const seconds = (Date.now() - started) / 1000;
        ctx.print(
          { dest: target, seconds, ...manifest },
          `backup of ${manifest.counts.messages} messages, ${manifest.counts.bodies} bodies (${mib(manifest.bytes)}) written to ${target} in ${seconds.toFixed(1)} s; sha256 ${manifest.sha256}`,
        );
      }),
    );

  program
    .command('verify')
    .description('integrity of the database and of every stored body (SHA-256, reference counts)')
    .action(
      withContext(async (ctx) => {
        lowerPriority();
        const report = await verifyStore(ctx.db);
        ctx.print(report, verifyText(report));
        if (!report.ok) throw new CliError(`verify: ${report.problems.length} problem(s) found`);
      }),
    );

  // Not through withContext: it would open (and create) a store in the data directory, which
  // must stay empty until the backup is in place.
  program
    .command('restore <src>')
    .description('restore a backup made by mssd backup into an empty data directory, the daemon stopped')
    .action(async (src: string, _opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals() as CommandOptions;
      try {
        const config = loadCommandConfig(opts);
        const dataDir = path.resolve(config.dataDir);
        mkdirSync(dataDir, { recursive: true });
        let lock;
        try {
          lock = await acquireInstanceLock(dataDir);
        } catch (err) {
          if (err instanceof AlreadyRunningError) throw new CliError(`restore: a daemon is running on ${dataDir}; stop it first (systemctl stop mssd)`);
          throw err;
        }
        try {
          const result = await refusalsAsCliErrors(() => restoreStore(path.resolve(src), dataDir));
          makePrinter(opts.json === true)(
            { database: result.database, manifest: result.manifest, verify: result.verify },
            `restored ${result.verify.messages} messages, ${result.verify.bodies} bodies into ${result.database} (verified); start the daemon`,
          );
        } finally {
          await lock.release();
        }
      } catch (err) {
        throw new CommandFailed(reportError(err));
      }
    });
}
