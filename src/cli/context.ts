// What every CLI command gets: the loaded config, the migrated store, and one way to print a
// result (human text, or JSON with --json) or fail with one clear line and a non-zero exit.
import type { Config } from '../config/schema';
import type { Db } from '../store/database';

/** A refusal of the operator's input: printed as one line, exit code 1 (R15). */
export class CliError extends Error {
  override name = 'CliError';
}

export interface CliContext {
  config: Config;
  db: Db;
  json: boolean;
  /** Prints `data` as JSON when --json is given, else the human `text`. */
  print(data: unknown, text: string): void;
}

export function makePrinter(json: boolean): CliContext['print'] {
  return (data, text) => {
    process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
  };
}
