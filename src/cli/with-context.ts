// The one wrapper every CLI action goes through: config → store → CliContext → action → close,
// and every failure turned into ONE line on stderr and an exit code (R15).
//
// Usage in a command module (see src/cli/accounts.ts):
//
//   export function registerXCommands(program: Command, withContext: WithContext): void {
//     program.command('thing <id>').option('--flag <v>')
//       .action(withContext((ctx, opts, [id]) => { ctx.print({ id }, `thing ${id}`); }));
//   }
//
// `--config FILE` and `--json` are declared once on the program (src/cli/main.ts) and are accepted
// anywhere on the command line; `opts` holds them merged with the command's own options.
import { Option, type Command } from 'commander';
import { ConfigError, configFileFromEnv, loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { AccountError } from '../store/accounts';
import { migrate, openDatabase, type Db } from '../store/database';
import { OperatorError } from '../util/operator-error';
import { CliError, makePrinter, type CliContext } from './context';

/** Exit codes of the CLI. */
export const EXIT_OK = 0;
/** Bad input or bad config: the operator can fix it (CliError, ConfigError, usage errors). */
export const EXIT_USAGE = 1;
/** Anything unexpected (a bug, a broken disk): still one line, never a stack trace. */
export const EXIT_INTERNAL = 2;

/** Options every command sees: the global ones plus the command's own. */
export type CommandOptions = { config?: string; json?: boolean } & Record<string, unknown>;

/**
 * A command body. `args` are the positional arguments in declaration order (a variadic argument
 * arrives as an array, as commander gives it).
 */
export type ContextAction = (ctx: CliContext, opts: CommandOptions, args: string[]) => void | Promise<void>;

export interface WithContextOptions {
  /**
   * Apply pending migrations before the action (default true). `mssd migrate` turns it off to
   * apply them itself and report what it applied.
   */
  migrate?: boolean;
}

export type WithContext = (
  action: ContextAction,
  options?: WithContextOptions,
) => (...commanderArgs: unknown[]) => Promise<void>;

/**
 * Thrown by a wrapped action once its failure has been reported on stderr; main() turns it into
 * the process exit code without printing anything more.
 */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
  constructor(readonly exitCode: number) {
    super(`command failed with exit code ${exitCode}`);
  }
}

/** First line of a message, so that nothing multi-line (or a stack) ever reaches the operator. */
function oneLine(text: string): string {
  return text.split('\n')[0].trim() || 'unknown error';
}

/** Prints the one line describing `err` on stderr and returns the exit code it deserves. */
export function reportError(err: unknown): number {
  if (err instanceof CommandFailed) return err.exitCode;
  if (err instanceof CliError || err instanceof ConfigError || err instanceof AccountError || err instanceof OperatorError) {
    process.stderr.write(`mssd: ${oneLine(err.message)}\n`);
    return EXIT_USAGE;
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  process.stderr.write(`mssd: internal error: ${oneLine(message)}\n`);
  return EXIT_INTERNAL;
}

/** The config named by --config, else MSSD_CONFIG, else the embedded defaults. */
export function loadCommandConfig(opts: { config?: string }): Config {
  return loadConfig(opts.config ?? configFileFromEnv());
}

/** Opens the store of `config`, migrated unless told otherwise. */
export function openStore(config: Config, applyMigrations = true): Db {
  const db = openDatabase(config.dataDir);
  try {
    if (applyMigrations) migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Commander passes (...positional, options, command) to an action. */
function splitCommanderArgs(commanderArgs: unknown[]): { args: string[]; opts: CommandOptions } {
  const command = commanderArgs[commanderArgs.length - 1] as Command;
  const args = commanderArgs.slice(0, -2) as string[];
  return { args, opts: command.optsWithGlobals() as CommandOptions };
}

export const withContext: WithContext = (action, options = {}) => {
  return async (...commanderArgs: unknown[]) => {
    const { args, opts } = splitCommanderArgs(commanderArgs);
    let db: Db | undefined;
    try {
      const config = loadCommandConfig(opts);
      db = openStore(config, options.migrate ?? true);
      const json = opts.json === true;
      await action({ config, db, json, print: makePrinter(json) }, opts, args);
    } catch (err) {
      throw new CommandFailed(reportError(err));
    } finally {
      db?.close();
    }
  };
};

/** An option taking `on` or `off` only (anything else is a one-line usage error). */
export function switchOption(flags: string, description: string): Option {
  return new Option(flags, description).choices(['on', 'off']);
}

/** `on` → true, `off` → false, absent → undefined. */
export function switchValue(value: unknown): boolean | undefined {
  return value === undefined ? undefined : value === 'on';
}
