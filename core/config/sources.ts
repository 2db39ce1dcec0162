import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HmacSchemeOptions } from '../schemes/types.js';
import { duplicateKeys } from './duplicate-keys.js';
import { checkHmacOptions, HMAC_VARIABLES } from './hmac.js';
import { isObject, KNOWN_KEYS, unknownKeys } from './keys.js';
import { DEFAULT_SOURCE, DEFAULTS, SINGLE_SOURCE_VARIABLES, type ConfigDocument, type SourceDescription } from './model.js';
import { allowedRanges, type Risk } from './risks.js';
import { describeRotation, rotationOf } from './rotation.js';
import {
  ENV_NAME,
  hmacFromEnv,
  jsonInt,
  limits,
  list,
  MAX_BODY_LIMIT,
  positiveInt,
  retentionCoversFreshness,
  schemeFor,
  signsTimestamp,
  SOURCE_NAME,
  stringArray,
  type Problems,
} from './rules.js';

/** Where the config file is looked for: `HOOKWARDEN_CONFIG`, else `hookwarden.config.json`, in `cwd`. */
export const configFilePath = (env: NodeJS.ProcessEnv, cwd: string): string => resolve(cwd, env.HOOKWARDEN_CONFIG || DEFAULTS.configFile);

/** The config document: inline `HOOKWARDEN_CONFIG_JSON`, else the file (`HOOKWARDEN_CONFIG` or `hookwarden.config.json`), if any. */
export const readDocument = (
  problems: Problems,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { document: ConfigDocument; origin: string } | undefined => {
  let text: string;
  let origin: string;
  if (env.HOOKWARDEN_CONFIG_JSON) {
    text = env.HOOKWARDEN_CONFIG_JSON;
    origin = 'HOOKWARDEN_CONFIG_JSON';
    // Two documents named, one read: the other (its allowlists with it) would be ignored in silence.
    if (env.HOOKWARDEN_CONFIG)
      problems.add(
        'HOOKWARDEN_CONFIG_JSON',
        `is set, and so is HOOKWARDEN_CONFIG (${configFilePath(env, cwd)}), which would not be read; unset one of them`,
      );
  } else {
    const path = configFilePath(env, cwd);
    if (!existsSync(path)) {
      if (env.HOOKWARDEN_CONFIG) problems.add('HOOKWARDEN_CONFIG', `file ${path} does not exist`);
      return undefined;
    }
    origin = path;
    try {
      // A FIFO or a device would block the read (and the start) for good: only a regular file is read.
      if (!statSync(path).isFile()) {
        problems.add(path, 'is not a regular file');
        return undefined;
      }
      text = readFileSync(path, 'utf8');
    } catch (error) {
      problems.add(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  try {
    const document: unknown = JSON.parse(text);
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      problems.add(origin, 'must be a JSON object');
      return undefined;
    }
    // What JSON.stringify writes repeats no key: the document the CDK app ships to the functions skips the scan at init.
    const written = text.trimEnd();
    if (written !== JSON.stringify(document, null, 2) && written !== JSON.stringify(document))
      for (const path of duplicateKeys(text))
        problems.add(`${origin} ${path}`, 'is given twice in one object; JSON keeps only the last, so remove the one not meant');
    return { document: document as ConfigDocument, origin };
  } catch (error) {
    // V8 quotes the text around the error ('Unexpected token 's', "{"secretEnv": whsec_…" is not valid JSON'): a secret
    // pasted in by mistake must not be shown, so only what went wrong (and where, when V8 says) is kept.
    problems.add(
      origin,
      `is not valid JSON (${(error as Error).message.replace(/,?\s*(\.\.\.)?"[\s\S]*"(\.\.\.)? is not valid JSON$/, '')})`,
    );
    return undefined;
  }
};

/** A `secretEnv` that is a Standard Webhooks or Stripe secret (`whsec_…`), a valid variable name by its letters. */
const SECRET_LOOKALIKE = /^whsec_/i;
/** A `secretEnv` that names an AWS variable (credentials, runtime settings): never a webhook secret. */
const AWS_VARIABLE = /^AWS_/i;
/** A complete secret ARN, with the 6-character suffix Secrets Manager appends to the name. */
const COMPLETE_SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;

/** A KMS key's ARN (`key/<id>`, not an alias: a grant on an alias ARN does not let anyone use the key), its partition and region captured. */
const KMS_KEY_ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]+$/;
/** The partition and region of a secret's ARN. */
const SECRET_ARN_PLACE = /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):/;

/**
 * A source's `secretKmsKeyArn`: a KMS key ARN, given with `secretArn` only (a generated secret uses the
 * `aws/secretsmanager` key), in the secret's partition and region (Secrets Manager encrypts with a key of its own region).
 */
const secretKmsKeyArnOf = (problems: Problems, where: string, raw: unknown, secretArn: string | undefined): string | undefined => {
  if (raw === undefined) return undefined;
  const key = typeof raw === 'string' ? KMS_KEY_ARN.exec(raw) : null;
  if (typeof raw !== 'string' || !key) {
    problems.add(
      `${where}.secretKmsKeyArn`,
      `must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>, not an alias), got ${JSON.stringify(raw)}`,
    );
    return undefined;
  }
  if (secretArn === undefined) {
    problems.add(
      `${where}.secretKmsKeyArn`,
      'is read only with "secretArn" (the key of an existing secret): a generated secret uses the aws/secretsmanager key',
    );
    return undefined;
  }
  const secret = SECRET_ARN_PLACE.exec(secretArn);
  if (secret && (secret[1] !== key[1] || secret[2] !== key[2])) {
    problems.add(
      `${where}.secretKmsKeyArn`,
      `is in ${key[1]} ${key[2]}, and the secret in ${secret[1]} ${secret[2]}: Secrets Manager encrypts a secret with a key of its own partition and region`,
    );
    return undefined;
  }
  return raw;
};

/** Options with a value only (the environment's unset variables dropped), so the description is plain JSON. */
const defined = (options: HmacSchemeOptions): HmacSchemeOptions =>
  Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as unknown as HmacSchemeOptions;

/** A rate limit as written (trimmed), once checked. */
const written = (raw: unknown): string | undefined => (typeof raw === 'string' && raw.trim() ? raw.trim() : undefined);

/** The optional keys of a description: each only when it has a value. */
const optional = (hmac: HmacSchemeOptions | undefined | false, rateLimit: unknown, clientRateLimit: unknown, checked: object) => ({
  ...(hmac ? { hmac: defined(hmac) } : {}),
  ...('rateLimit' in checked && written(rateLimit) ? { rateLimit: written(rateLimit) as string } : {}),
  ...('clientRateLimit' in checked && written(clientRateLimit) ? { clientRateLimit: written(clientRateLimit) as string } : {}),
});

/** One source of the document, every key checked; `undefined` when its name is unusable. */
const sourceFromDocument = (
  problems: Problems,
  raw: unknown,
  where: string,
  accepted: ReadonlySet<Risk>,
  completeArn: boolean,
): SourceDescription | undefined => {
  if (!isObject(raw)) {
    problems.add(where, 'must be an object');
    return undefined;
  }
  unknownKeys(problems, (key) => `${where}.${key}`, raw, KNOWN_KEYS.source);
  const name = raw.name;
  const named = typeof name === 'string' && SOURCE_NAME.test(name);
  if (!named) problems.add(`${where}.name`, `must be lower-case letters, digits, "-" or "_" (1 to 63), got ${JSON.stringify(name)}`);
  const schemeName = raw.scheme ?? DEFAULTS.scheme;
  let hmac: HmacSchemeOptions | undefined | false;
  if (raw.hmac !== undefined && schemeName !== 'hmac') {
    problems.add(`${where}.hmac`, `is read only with "scheme": "hmac", and this source's scheme is ${JSON.stringify(schemeName)}`);
  } else if (raw.hmac !== undefined) {
    hmac = checkHmacOptions(problems, raw.hmac, (key) => `${where}.hmac.${key}`, `${where}.hmac`, accepted) ?? false;
  }
  const scheme = schemeFor(problems, `${where}.scheme`, schemeName, hmac);
  if (raw.generateSecret !== undefined && typeof raw.generateSecret !== 'boolean')
    problems.add(`${where}.generateSecret`, `must be true or false, got ${JSON.stringify(raw.generateSecret)}`);
  let secretArn: string | undefined;
  if (raw.secretArn !== undefined) {
    if (typeof raw.secretArn !== 'string' || raw.secretArn.length === 0) problems.add(`${where}.secretArn`, 'must be a secret ARN or name');
    else secretArn = raw.secretArn;
    if (secretArn && completeArn && !COMPLETE_SECRET_ARN.test(secretArn)) {
      problems.add(
        `${where}.secretArn`,
        'must be the complete secret ARN, with its 6-character suffix (aws secretsmanager describe-secret prints it)',
      );
    }
  }
  const secretKmsKeyArn = secretKmsKeyArnOf(problems, where, raw.secretKmsKeyArn, secretArn);
  let secretEnv: string | undefined;
  if (raw.secretEnv !== undefined) {
    // A string that is no variable name may be the secret itself, pasted in the wrong place: never shown.
    if (typeof raw.secretEnv !== 'string')
      problems.add(`${where}.secretEnv`, `must be an environment variable name, got ${JSON.stringify(raw.secretEnv)}`);
    else if (!ENV_NAME.test(raw.secretEnv) || SECRET_LOOKALIKE.test(raw.secretEnv))
      problems.add(
        `${where}.secretEnv`,
        'must name the environment variable that holds the secret (letters, digits and _), not hold the secret: the value is not shown',
      );
    else if (AWS_VARIABLE.test(raw.secretEnv))
      problems.add(
        `${where}.secretEnv`,
        `"${raw.secretEnv}" is an AWS variable (credentials or runtime settings), never a webhook secret: name the variable that holds the provider's signing secret`,
      );
    else secretEnv = raw.secretEnv;
  }
  const allowedIps = allowedRanges(problems, `${where}.allowedIps`, stringArray(problems, `${where}.allowedIps`, raw.allowedIps), accepted);
  const maxAgeSeconds = jsonInt(problems, `${where}.maxAgeSeconds`, raw.maxAgeSeconds, DEFAULTS.maxAgeSeconds, 86_400);
  const maxBodyBytes = jsonInt(problems, `${where}.maxBodyBytes`, raw.maxBodyBytes, DEFAULTS.maxBodyBytes, MAX_BODY_LIMIT);
  const retentionSeconds = jsonInt(problems, `${where}.retentionSeconds`, raw.retentionSeconds, DEFAULTS.retentionSeconds, 366 * 86_400);
  if (signsTimestamp(schemeName, hmac))
    retentionCoversFreshness(problems, [`${where}.retentionSeconds`, retentionSeconds], ['maxAgeSeconds', maxAgeSeconds]);
  const checked = limits(problems, [`${where}.rateLimit`, raw.rateLimit], [`${where}.clientRateLimit`, raw.clientRateLimit]);
  const rotation = rotationOf(problems, `${where}.rotation`, raw.rotation, scheme?.name ?? String(schemeName));
  if (!named) return undefined;
  return {
    name,
    scheme: scheme?.name ?? String(schemeName),
    ...(secretEnv ? { secretEnv } : {}),
    ...(secretArn ? { secretArn } : {}),
    ...(secretKmsKeyArn ? { secretKmsKeyArn } : {}),
    generateSecret: raw.generateSecret !== false,
    allowedIps,
    maxAgeSeconds,
    maxBodyBytes,
    retentionSeconds,
    ...optional(hmac, raw.rateLimit, raw.clientRateLimit, checked),
    ...(rotation.defaulted ? {} : { rotation: describeRotation(rotation) }),
  };
};

/**
 * The sources of a config document, every problem of every key collected in
 * one pass: unknown keys (naming the nearest known one), wrong types, bad
 * values, and dangerous values not acknowledged in `accepted`.
 */
export const sourcesFromDocument = (
  problems: Problems,
  document: ConfigDocument,
  origin: string,
  accepted: ReadonlySet<Risk>,
  completeArns = false,
): SourceDescription[] => {
  unknownKeys(problems, (key) => `${origin} ${key}`, document, KNOWN_KEYS.top);
  if (!Array.isArray(document.sources) || document.sources.length === 0) {
    problems.add(`${origin} sources`, 'must be a non-empty array');
    return [];
  }
  const sources = new Map<string, SourceDescription>();
  document.sources.forEach((raw: unknown, index) => {
    const where = `${origin} sources[${index}]`;
    const source = sourceFromDocument(problems, raw, where, accepted, completeArns);
    if (!source) return;
    if (sources.has(source.name)) problems.add(`${where}.name`, `"${source.name}" is listed twice`);
    sources.set(source.name, source);
  });
  return [...sources.values()];
};

/**
 * Refuses single-source variables beside a config document: they would be
 * silently ignored. A variable a source names in `secretEnv` is in use, not ignored.
 */
export const ignoredVariables = (problems: Problems, document: ConfigDocument, origin: string, env: NodeJS.ProcessEnv): void => {
  const used = new Set(
    (Array.isArray(document.sources) ? document.sources : []).map((raw: unknown) => (isObject(raw) ? raw.secretEnv : undefined)),
  );
  for (const variable of SINGLE_SOURCE_VARIABLES) {
    if (!env[variable] || used.has(variable)) continue;
    const instead = variable === 'WEBHOOK_SECRET' ? ` (or name ${variable} in a source's "secretEnv")` : '';
    problems.add(
      variable,
      `is set, but the sources come from ${origin}, which this variable does not change; configure the source there and unset ${variable}${instead}`,
    );
  }
};

/**
 * The `WEBHOOK_HMAC_*` options of the `default` source, checked (config/hmac.ts):
 * `false` when refused, `undefined` when not set. Set without `WEBHOOK_SCHEME=hmac`, they are a problem.
 */
const hmacFromEnvironment = (
  problems: Problems,
  env: NodeJS.ProcessEnv,
  schemeName: string,
  accepted: ReadonlySet<Risk>,
): HmacSchemeOptions | undefined | false => {
  if (schemeName !== 'hmac') {
    for (const variable of Object.values(HMAC_VARIABLES)) {
      if (env[variable])
        problems.add(variable, `is read only with WEBHOOK_SCHEME=hmac, and WEBHOOK_SCHEME is ${JSON.stringify(schemeName)}`);
    }
    return undefined;
  }
  const raw = hmacFromEnv(env);
  return raw && (checkHmacOptions(problems, raw, (key) => HMAC_VARIABLES[key], 'WEBHOOK_HMAC_*', accepted) ?? false);
};

/** The one `default` source the `WEBHOOK_*` variables describe (its secrets are in `WEBHOOK_SECRET`). */
export const sourceFromEnvironment = (problems: Problems, env: NodeJS.ProcessEnv, accepted: ReadonlySet<Risk>): SourceDescription => {
  const schemeName = env.WEBHOOK_SCHEME || DEFAULTS.scheme;
  const hmac = hmacFromEnvironment(problems, env, schemeName, accepted);
  const scheme = schemeFor(problems, 'WEBHOOK_SCHEME', schemeName, hmac);
  const allowedEntries = list(env.WEBHOOK_ALLOWED_IPS);
  const allowedIps = allowedRanges(problems, 'WEBHOOK_ALLOWED_IPS', allowedEntries, accepted);
  // Commas and spaces alone (a template that filled in nothing) would read as no allowlist: allow any address.
  if (allowedEntries.length === 0 && (env.WEBHOOK_ALLOWED_IPS ?? '').trim() !== '') {
    problems.add(
      'WEBHOOK_ALLOWED_IPS',
      'lists no address, only commas and spaces: list the addresses and ranges, or unset it to allow any address',
    );
  }
  const maxAgeSeconds = positiveInt(problems, 'WEBHOOK_MAX_AGE', env.WEBHOOK_MAX_AGE, DEFAULTS.maxAgeSeconds, 86_400);
  const maxBodyBytes = positiveInt(problems, 'WEBHOOK_MAX_BODY_BYTES', env.WEBHOOK_MAX_BODY_BYTES, DEFAULTS.maxBodyBytes, MAX_BODY_LIMIT);
  const retentionSeconds = positiveInt(
    problems,
    'WEBHOOK_RETENTION_SECONDS',
    env.WEBHOOK_RETENTION_SECONDS,
    DEFAULTS.retentionSeconds,
    366 * 86_400,
  );
  if (signsTimestamp(schemeName, hmac))
    retentionCoversFreshness(problems, ['WEBHOOK_RETENTION_SECONDS', retentionSeconds], ['WEBHOOK_MAX_AGE', maxAgeSeconds]);
  const checked = limits(
    problems,
    ['WEBHOOK_RATE_LIMIT', env.WEBHOOK_RATE_LIMIT],
    ['WEBHOOK_CLIENT_RATE_LIMIT', env.WEBHOOK_CLIENT_RATE_LIMIT],
  );
  return {
    name: DEFAULT_SOURCE,
    scheme: scheme?.name ?? String(env.WEBHOOK_SCHEME),
    secretEnv: 'WEBHOOK_SECRET',
    generateSecret: true,
    allowedIps,
    maxAgeSeconds,
    maxBodyBytes,
    retentionSeconds,
    ...optional(hmac, env.WEBHOOK_RATE_LIMIT, env.WEBHOOK_CLIENT_RATE_LIMIT, checked),
  };
};
