import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type HookwardenConfig, type SourceConfig } from '../functions/shared/config';
import { ConfigError } from '../functions/shared/errors';
import { readDevelopmentSecrets } from '../local/dev-secrets';
import { dataDirOf } from '../local/index';

/** Bad usage: a clear message, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command ran but did not succeed (invalid signature, non-2xx answer): exit code 1. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
}

/** What every command works from: the same configuration the local server reads. */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly dataDir: string;
}

/** The context of this process. */
export const cliContext = (env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): CliContext => ({ env, cwd, dataDir: dataDirOf(env, cwd) });

/** Loads the configuration; its problems are a usage error (exit 2). */
export const configOf = (context: CliContext): HookwardenConfig => {
  try {
    return loadConfig(context.env, context.cwd);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
};

/** A configured source by name. */
export const sourceOf = (config: HookwardenConfig, name: string): SourceConfig => {
  const source = config.sources.get(name);
  if (!source) throw new UsageError(`unknown source "${name}" (configured: ${[...config.sources.keys()].join(', ')})`);
  return source;
};

/**
 * The secrets of a source: `--secret-env NAME` first, then the configured
 * variable, then the development secret `npm start` saved. Never from an
 * argument (it would land in shell history).
 */
export const secretsOf = (context: CliContext, source: SourceConfig, secretEnv?: string): readonly string[] => {
  if (secretEnv !== undefined) {
    const values = (context.env[secretEnv] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (values.length === 0) throw new UsageError(`--secret-env ${secretEnv}: the variable is not set`);
    return values;
  }
  if (source.secret?.kind === 'env') return source.secret.values;
  const saved = readDevelopmentSecrets(context.dataDir)[`${source.name}:${source.schemeName}`];
  if (saved) return [saved];
  throw new UsageError(
    `no secret for source "${source.name}": set ${source.name === 'default' ? 'WEBHOOK_SECRET' : 'its secretEnv variable'}, pass --secret-env NAME, or run npm start once to generate a development secret`,
  );
};

/** Reads the body of --data / --file, or the fallback. */
export const bodyOf = (context: CliContext, options: { data?: string; file?: string }, fallback: () => string): Buffer => {
  if (options.data !== undefined && options.file !== undefined) throw new UsageError('give --data or --file, not both');
  if (options.data !== undefined) return Buffer.from(options.data);
  if (options.file !== undefined) return readFileOrUsage(resolve(context.cwd, options.file));
  return Buffer.from(fallback());
};

/** Reads a file, turning a missing or unreadable one into a usage error. */
export const readFileOrUsage = (path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
};

/** Parses a whole non-negative number argument. */
export const wholeNumber = (name: string) => (value: string): number => {
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`${name} must be a whole number, got "${value}"`);
  return Number(value);
};
