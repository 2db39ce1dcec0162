import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type HookwardenConfig, type SourceConfig } from '../core/config/index.js';
import { ConfigError } from '../core/errors.js';
import { isValid, signingKey, toKeyDocument, type KeyDocument } from '../core/secrets/key-document.js';
import { keyFilePath } from '../core/secrets/key-files.js';
import { parseSecretDocument } from '../core/secrets/secrets-manager.js';
import { developmentSecretsPath, readDevelopmentSecrets } from '../local/dev-secrets.js';
import { dataDirOf } from '../local/server-info.js';

/** Bad usage (arguments, configuration, unreadable input): a clear message, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command ran but did not succeed (invalid signature, non-2xx answer, nothing stored): exit code 1. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
}

/** What every command works from: the same environment and working directory the local server reads. */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** `HOOKWARDEN_DATA_DIR`, else `.hookwarden/` in `cwd`: dev secrets, `server.json`, the store. */
  readonly dataDir: string;
}

/** The context of this process. */
export const cliContext = (env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): CliContext => ({
  env,
  cwd,
  dataDir: dataDirOf(env, cwd),
});

/** A configuration error in the command line's voice (lower case after the `hookwarden: ` prefix), every problem on its own line. */
export const configMessage = (error: ConfigError): string => `invalid configuration:\n${error.problems.map((p) => `  - ${p}`).join('\n')}`;

/**
 * Loads the configuration exactly as the server does.
 * @throws UsageError carrying every problem of the ConfigError (exit 2)
 */
export const configOf = (context: CliContext): HookwardenConfig => {
  try {
    return loadConfig(context.env, context.cwd);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(configMessage(error));
    throw error;
  }
};

/**
 * A configured source by name.
 * @throws UsageError listing the configured names
 */
export const sourceOf = (config: HookwardenConfig, name: string): SourceConfig => {
  const source = config.sources.get(name);
  if (!source) throw new UsageError(`unknown source "${name}" (configured: ${[...config.sources.keys()].join(', ')})`);
  return source;
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks that every secret decodes for the scheme; the message names where it came from, never the value. */
const decodable = (source: SourceConfig, where: string, values: readonly string[]): readonly string[] => {
  values.forEach((value, index) => {
    try {
      source.scheme.decodeSecret(value);
    } catch (error) {
      throw new UsageError(`${where}: secret #${index + 1} ${(error as Error).message}`);
    }
  });
  return values;
};

/** Where the secrets a command signs or verifies with came from. */
export interface SecretsOrigin {
  /** For people: `WEBHOOK_SECRET`, `MY_VAR (--secret-env)`, `the development secret in …/dev-secrets.json`. */
  readonly label: string;
  /** For comparing with the running server: `env:NAME`, `development`, or `explicit` for --secret-env. */
  readonly kind: string;
}

/**
 * The secrets of a source, in the order the server would try them:
 * `--secret-env NAME` when given, else the configured variable, else the
 * development secret `npm start` saved. Never from an argument: it would land
 * in shell history. Never generated here: the server would not know it.
 * @throws UsageError explaining how to provide one
 */
export const secretsOf = (context: CliContext, config: HookwardenConfig, source: SourceConfig, secretEnv?: string): readonly string[] =>
  secretsWithOrigin(context, config, source, secretEnv).values;

/**
 * {@link secretsOf} with where they came from, so a command can say which secret it used. From the key
 * document of the data directory, `sign` gets its current key alone and `verify` every key the server accepts.
 */
export const secretsWithOrigin = (
  context: CliContext,
  config: HookwardenConfig,
  source: SourceConfig,
  secretEnv?: string,
  use: 'sign' | 'verify' = 'sign',
): { values: readonly string[]; origin: SecretsOrigin } => {
  if (secretEnv !== undefined) {
    if (!ENV_NAME.test(secretEnv)) throw new UsageError(`--secret-env takes the name of an environment variable, got "${secretEnv}"`);
    const values = (context.env[secretEnv] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (values.length === 0) throw new UsageError(`--secret-env ${secretEnv}: the variable is not set or empty`);
    return {
      values: decodable(source, `--secret-env ${secretEnv}`, values),
      origin: { label: `${secretEnv} (--secret-env)`, kind: 'explicit' },
    };
  }
  if (source.secret?.kind === 'env')
    return { values: source.secret.values, origin: { label: source.secret.variable, kind: `env:${source.secret.variable}` } };
  if (source.secret?.kind === 'secretsManager') {
    throw new UsageError(
      `source "${source.name}" keeps its secret in Secrets Manager, which this command does not read: pass --secret-env NAME`,
    );
  }
  // The key document npm start keeps for the source: a sender signs with its current key (after a rotation too),
  // and the server verifies with every key not past its notAfter (the previous ones in their overlap, the staged one).
  const keyFile = keyFilePath(context.dataDir, source.name);
  if (existsSync(keyFile)) {
    const nowSeconds = Math.floor(Date.now() / 1000);
    let document: KeyDocument;
    try {
      document = toKeyDocument(parseSecretDocument(readFileSync(keyFile, 'utf8')));
    } catch (error) {
      throw new UsageError(`${keyFile}: ${(error as Error).message}`);
    }
    const signing = signingKey(document, nowSeconds);
    if (!signing) throw new UsageError(`${keyFile}: every key has expired; rotate the source (hookwarden rotate ${source.name})`);
    if (use === 'verify') {
      const others = document.keys.filter((key) => key !== signing && isValid(key, nowSeconds)).map((key) => key.secret);
      return {
        values: decodable(source, keyFile, [signing.secret, ...others]),
        origin: { label: `the keys in ${keyFile}`, kind: 'development' },
      };
    }
    return {
      values: decodable(source, keyFile, [signing.secret]),
      origin: { label: `the current key in ${keyFile}`, kind: 'development' },
    };
  }
  let saved: Readonly<Record<string, string>>;
  try {
    saved = readDevelopmentSecrets(context.dataDir);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const path = developmentSecretsPath(context.dataDir);
  const secret = saved[`${source.name}:${source.schemeName}`];
  if (secret !== undefined)
    return { values: decodable(source, path, [secret]), origin: { label: `the development secret in ${path}`, kind: 'development' } };
  const configured = config.origin === 'environment' ? 'set WEBHOOK_SECRET' : `set its secretEnv variable (see ${config.origin})`;
  throw new UsageError(
    `no secret for source "${source.name}": ${configured}, pass --secret-env NAME, or run npm start once with the same data directory (it generates a development secret and saves it in ${path})`,
  );
};

/**
 * The body from `--data` or `--file`, else the fallback (commander refuses both at once).
 * @throws UsageError for an unreadable file
 */
export const bodyOf = (context: CliContext, options: { data?: string; file?: string }, fallback: () => string): Buffer => {
  if (options.data !== undefined) return Buffer.from(options.data, 'utf8');
  if (options.file !== undefined) return readFileOrUsage(pathOption(context, '--file', options.file));
  return Buffer.from(fallback(), 'utf8');
};

/**
 * A file option's path, from the working directory. An empty one (`--body "$FILE"` with the
 * variable unset) would name the working directory itself: refused as what it is.
 * @throws UsageError for an empty path
 */
export const pathOption = (context: CliContext, flag: string, value: string): string => {
  if (value === '') throw new UsageError(`${flag} is empty: give the path of a file`);
  return resolve(context.cwd, value);
};

/**
 * Reads a file as raw bytes.
 * @throws UsageError naming the file and the system's reason (ENOENT, EACCES, EISDIR, ...)
 */
export const readFileOrUsage = (path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
};
