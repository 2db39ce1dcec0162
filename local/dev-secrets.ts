import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, type HookwardenConfig, type SourceConfig } from '../core/config/index.js';
import { keyFilePath, writePrivateFile } from '../core/secrets/key-files.js';
import { generateKey, newKeyId, serializeKeyDocument, signingKey, toKeyDocument } from '../core/secrets/key-document.js';
import { decodeKey } from '../core/secrets/keys.js';
import { parseSecretDocument } from '../core/secrets/secrets-manager.js';

/** The development secrets' file in the data directory. */
export const DEV_SECRETS_FILE = 'dev-secrets.json';
const FILE = DEV_SECRETS_FILE;

/** A fresh secret in the format the scheme expects (Standard Webhooks: `whsec_` + base64). */
export const generateSecret = (schemeName: string): string => {
  const bytes = randomBytes(24);
  if (schemeName === 'standard-webhooks') return `whsec_${bytes.toString('base64')}`;
  if (schemeName === 'stripe') return `whsec_${bytes.toString('hex')}`;
  return bytes.toString('hex');
};

/**
 * The key document of a source without a secret variable, in the data
 * directory (`keys/<source>.json`, 0600, the format of the Secrets Manager
 * secret): created when missing, with `seed` as the current key and a staged
 * next key, so that the first rotation can already switch.
 * @returns the path and the key a sender signs with now
 * @throws Error naming the file (never quoting it) when it is not a key document
 */
export const ensureKeyDocument = (
  dataDir: string,
  source: SourceConfig,
  seed: () => string,
  nowSeconds = Math.floor(Date.now() / 1000),
): { path: string; signing: string } => {
  const path = keyFilePath(dataDir, source.name);
  if (!existsSync(path)) {
    const keys = [
      { id: newKeyId(), secret: seed(), createdAt: nowSeconds },
      { id: newKeyId(), secret: generateKey(source.schemeName), createdAt: nowSeconds, next: true },
    ];
    writePrivateFile(path, serializeKeyDocument({ keys }));
  }
  let document;
  try {
    document = toKeyDocument(parseSecretDocument(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}; fix it or delete it (a new key document is then created)`);
  }
  const signing = signingKey(document, nowSeconds);
  if (!signing) throw new Error(`${path}: every key has expired; rotate the source (hookwarden rotate ${source.name}) or delete the file`);
  return { path, signing: signing.secret };
};

/**
 * Gives every source without a configured secret a key document in the data
 * directory (`keys/<source>.json`, 0600), seeded from the development secret
 * kept in `<dataDir>/dev-secrets.json` (mode 0600) so restarts keep it. The
 * server reads the document through the same cache as a Secrets Manager
 * secret (`cacheSeconds`), so `hookwarden rotate` takes effect without a
 * restart. Without a data directory (in memory), the secret is a fixed value.
 * Returns the completed configuration and the key a sender signs with now, by
 * source, to print once.
 */
export const withDevelopmentSecrets = (
  config: HookwardenConfig,
  dataDir: string | undefined,
  cacheSeconds: number = DEFAULTS.secretCacheSeconds,
): { config: HookwardenConfig; generated: Map<string, string> } => {
  const path = dataDir ? join(dataDir, FILE) : undefined;
  // Read through readDevelopmentSecrets: a corrupt file is named, never quoted (it holds secrets).
  const saved: Record<string, string> = dataDir ? { ...readDevelopmentSecrets(dataDir) } : {};
  const generated = new Map<string, string>();
  const sources = new Map<string, SourceConfig>();
  for (const [name, source] of config.sources) {
    if (source.secret) {
      sources.set(name, source);
      continue;
    }
    let secret = saved[`${name}:${source.schemeName}`];
    try {
      // A saved key the server would refuse (undecodable, or under 16 bytes) is replaced, not served as 503s.
      if (secret) decodeKey(source.scheme, secret);
    } catch {
      secret = undefined;
    }
    secret ??= generateSecret(source.schemeName);
    saved[`${name}:${source.schemeName}`] = secret;
    if (dataDir) {
      const seed = secret;
      const { path: keyFile, signing } = ensureKeyDocument(dataDir, source, () => seed);
      generated.set(name, signing);
      sources.set(name, { ...source, secret: { kind: 'keyFile', secretId: keyFile, cacheSeconds } });
      continue;
    }
    generated.set(name, secret);
    sources.set(name, { ...source, secret: { kind: 'env', variable: '(generated development secret)', values: [secret] } });
  }
  if (path && dataDir && generated.size > 0) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, JSON.stringify(saved, null, 2), { mode: 0o600 });
  }
  return { config: { ...config, sources }, generated };
};

/** Where {@link withDevelopmentSecrets} keeps the development secrets of a data directory. */
export const developmentSecretsPath = (dataDir: string): string => join(dataDir, FILE);

/**
 * The development secrets `npm start` saved in the data directory, by
 * `source:scheme`. Read only: the command line must never mint a secret the
 * server does not know. A missing file is an empty result.
 * @throws Error naming the file when it is not a JSON object of strings (never quoting its content)
 */
export const readDevelopmentSecrets = (dataDir: string): Readonly<Record<string, string>> => {
  const path = developmentSecretsPath(dataDir);
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new Error(`${path} is not valid JSON: delete it and run npm start to generate new development secrets`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error(`${path} must be a JSON object of "source:scheme" to secret strings`);
  }
  return parsed as Record<string, string>;
};
