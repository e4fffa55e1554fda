// Loading the configuration: the embedded defaults (config/default.json), then the operator's file
// merged over them key by key, then one strict validation of the result.
//
// Relative paths are resolved against the file that states them: the defaults against the project
// root (so `npm start` keeps its data in ./data), an operator's file against its own directory (so
// a config works whatever the working directory of the process).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema, type Config } from './schema';

/** Raised for any unusable configuration; its message is the one line shown to the operator. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The project root: the nearest directory above this file holding config/default.json (this
 * file runs both compiled, from dist/src/config, and as TypeScript, from src/config). */
function findProjectRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'config', 'default.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`config/default.json not found above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot();
export const defaultConfigFile = path.join(projectRoot, 'config', 'default.json');

const PATH_KEYS = [
  'dataDir',
  'tls.certFile',
  'tls.keyFile',
  'tls.caFile',
  'trustSpace.allowlistFile',
  'trustSpace.checksumFile',
  'relay.certFile',
  'relay.keyFile',
  'relay.caFile',
  'directory.outputDir',
  'directory.caFile',
  'auth.oauth.jwks',
  'auth.oauth.caFile',
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readJson(file: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config error: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config error: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new ConfigError(`config error: ${file} must hold a JSON object`);
  return value;
}

/** Makes the path-valued keys of one layer absolute, relative to that layer's base directory. */
function resolvePaths(layer: JsonObject, baseDir: string): void {
  for (const key of PATH_KEYS) {
    const parts = key.split('.');
    let holder: Json = layer;
    for (const part of parts.slice(0, -1)) holder = isObject(holder) ? holder[part] : null;
    const last = parts[parts.length - 1];
    if (isObject(holder) && typeof holder[last] === 'string') {
      const value = holder[last] as string;
      // auth.oauth.jwks may be a URL rather than a path.
      if (value !== '' && !/^https?:\/\//i.test(value) && !path.isAbsolute(value)) holder[last] = path.resolve(baseDir, value);
    }
  }
}

/** Objects merge key by key; anything else (arrays, null, scalars) replaces the default. */
export function mergeOver(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isObject(value) && isObject(base[key]) ? mergeOver(base[key] as JsonObject, value) : value;
  }
  return out;
}

function describeIssue(issue: { path: PropertyKey[]; message: string; code: string; keys?: string[] }): string {
  const where = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return issue.keys.map((key) => `${where ? `${where}.` : ''}${key}: unknown key`).join('; ');
  }
  return `${where || '(top level)'}: ${issue.message}`;
}

/**
 * Loads and validates the configuration. `file` is the operator's config (`--config` or
 * `MSSD_CONFIG`); without one the embedded defaults are used as they are.
 */
export function loadConfig(file?: string): Config {
  const defaults = readJson(defaultConfigFile);
  resolvePaths(defaults, projectRoot);
  let merged = defaults;
  let source = defaultConfigFile;
  if (file) {
    source = path.resolve(file);
    const layer = readJson(source);
    resolvePaths(layer, path.dirname(source));
    merged = mergeOver(defaults, layer);
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const first = parsed.error.issues[0] as Parameters<typeof describeIssue>[0];
    throw new ConfigError(`config error in ${source}: ${describeIssue(first)}`);
  }
  const config = parsed.data;
  if (config.directory.outputDir === '') config.directory.outputDir = path.join(config.dataDir, 'directory');
  if (Boolean(config.tls.certFile) !== Boolean(config.tls.keyFile)) {
    throw new ConfigError(`config error in ${source}: tls.keyFile: tls.certFile and tls.keyFile must be set together`);
  }
  if (config.trustSpace.checksumUrl && !(config.trustSpace.allowlistUrl && config.trustSpace.checksumFile)) {
    throw new ConfigError(
      `config error in ${source}: trustSpace.checksumUrl: needs trustSpace.allowlistUrl (the list it checks) and trustSpace.checksumFile (where it is kept)`,
    );
  }
  if (Boolean(config.relay.certFile) !== Boolean(config.relay.keyFile)) {
    throw new ConfigError(`config error in ${source}: relay.keyFile: relay.certFile and relay.keyFile must be set together`);
  }
  return config;
}

/** The config file named by the environment, when `--config` is not given. */
export function configFileFromEnv(): string | undefined {
  return process.env.MSSD_CONFIG || undefined;
}
