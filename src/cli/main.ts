// The operator CLI (DESIGN.md "Operator CLI"): one commander program, one module per command
// group. Whatever goes wrong — unknown command, missing option, bad value, bad config, refused
// input, a bug — the operator gets ONE line `mssd: <problem>` on stderr and a non-zero exit (R15);
// only --help prints commander's multi-line help (on stdout, exit 0).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { configFileFromEnv, projectRoot } from '../config/load';
import type { serve as Serve } from '../daemon';
import { migrate } from '../store/database';
import { registerAccountCommands } from './accounts';
import { registerBackupCommands } from './backup';
import { registerDeviceCommands } from './devices';
import { registerOperationsCommands } from './operations';
import { registerOrgCommands } from './orgs';
import { registerReportCommands } from './report';
import { registerRuleCommands } from './rules';
import { EXIT_OK, EXIT_USAGE, loadCommandConfig, reportError, withContext } from './with-context';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Commander messages are "error: …" and may carry a second line of suggestions: keep one line. */
function commanderProblem(message: string): string {
  return message
    .replace(/^error:\s*/, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

export interface Program {
  program: Command;
  /** The deepest command commander dispatched to, to name it when its subcommand is missing. */
  lastCommand(): Command;
}

export function buildProgram(): Program {
  const program = new Command('mssd');
  let last: Command = program;
  program
    .description('Mail server of an MSSanté operator: daemon and operator commands')
    .version(packageVersion(), '-V, --version')
    .option('--config <file>', 'config file (default: $MSSD_CONFIG, else the embedded defaults)')
    .option('--json', 'machine-readable output')
    // These settings are inherited by every command created below.
    .exitOverride()
    .configureOutput({
      // Errors are reported by main() as one line; the help shown for a missing subcommand is
      // replaced by one line too.
      outputError: () => {},
      writeErr: () => {},
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .hook('preSubcommand', (_parent, sub) => {
      last = sub;
    });

  program
    .command('serve')
    .description('run the daemon (MTA, submission, IMAP, scheduled jobs) until SIGTERM/SIGINT')
    .action(async (_opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals() as { config?: string };
      // serve() loads the config itself; check it here first so a bad one is one line, exit 1.
      const file = opts.config ?? configFileFromEnv();
      loadCommandConfig({ config: file });
      // Loaded on demand: the daemon's protocol stacks are not needed by the other commands.
      const { serve } = require('../daemon') as { serve: typeof Serve };
      await serve(file);
    });

  program
    .command('migrate')
    .description('apply the pending database migrations')
    .action(
      withContext(
        (ctx) => {
          const applied = migrate(ctx.db);
          const text = applied.length
            ? applied.map((m) => `applied ${String(m.version).padStart(3, '0')}_${m.name}`).join('\n')
            : 'database is up to date';
          ctx.print({ applied }, text);
        },
        { migrate: false },
      ),
    );

  registerAccountCommands(program, withContext);
  registerOrgCommands(program, withContext);
  registerRuleCommands(program, withContext);
  registerOperationsCommands(program, withContext);
  registerBackupCommands(program, withContext);
  registerDeviceCommands(program, withContext);
  registerReportCommands(program, withContext);
  return { program, lastCommand: () => last };
}

function subcommandNames(command: Command): string {
  return command.commands.map((sub) => sub.name()).join(', ');
}

/** Runs the CLI on `argv` (as process.argv: node, script, args…) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let built: Program;
  try {
    built = buildProgram();
    await built.program.parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') {
        // A command group without its subcommand, e.g. `mssd account`.
        const group = built!.lastCommand();
        const name = group === built!.program ? '' : `${group.name()}: `;
        process.stderr.write(`mssd: ${name}missing command (one of: ${subcommandNames(group)})\n`);
        return EXIT_USAGE;
      }
      process.stderr.write(`mssd: ${commanderProblem(err.message)}\n`);
      return err.exitCode || EXIT_USAGE;
    }
    return reportError(err);
  }
}
