import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HookwardenConfig, SourceConfig } from '../core/config/index.js';
import { decodeKey } from '../core/secrets/keys.js';

const FILE = 'dev-secrets.json';

/** A fresh secret in the format the scheme expects (Standard Webhooks: `whsec_` + base64). */
export const generateSecret = (schemeName: string): string => {
  const bytes = randomBytes(24);
  if (schemeName === 'standard-webhooks') return `whsec_${bytes.toString('base64')}`;
  if (schemeName === 'stripe') return `whsec_${bytes.toString('hex')}`;
  return bytes.toString('hex');
};

/**
 * Gives every source without a configured secret a development secret, kept in
 * `<dataDir>/dev-secrets.json` (mode 0600) so restarts keep it. Returns the
 * completed configuration and the generated secrets by source, to print once.
 */
export const withDevelopmentSecrets = (
  config: HookwardenConfig,
  dataDir: string | undefined,
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
