import { relative, resolve } from 'node:path';
import type { SourceConfig } from '../core/config/index.js';
import { addressMatcher, parseAddress, type Address } from '../core/net.js';
import type { LocalHookwarden } from './index.js';
import { sampleBody, shellQuote } from './sample.js';

/**
 * Whether the source's scheme signs a timestamp: a message signed at T fails
 * as out of range just past T + maxAge. Asked of the scheme itself, so a
 * generic `hmac` source without `timestampHeader` answers no.
 */
export const signsTimestamp = (source: SourceConfig, secret: string): boolean => {
  const at = 1_700_000_000;
  const body = Buffer.from(sampleBody(source.schemeName));
  const headers = source.scheme.sign(secret, { body, timestampSeconds: at });
  const map = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), [v]]));
  const result = source.scheme.verify({ headers: map, body }, [source.scheme.decodeSecret(secret)], {
    nowSeconds: at + source.maxAgeSeconds + 1,
    maxAgeSeconds: source.maxAgeSeconds,
  });
  return !result.ok && result.code === 'timestamp_out_of_range';
};

/** Seconds as the largest whole unit: `7 d`, `36 h`, `90 min`, `45 s`. */
const duration = (seconds: number): string => {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
  ] as const)
    if (seconds % size === 0) return `${seconds / size} ${unit}`;
  return `${seconds} s`;
};

/** The address a request from this machine comes from, for a server listening on `url`. */
const loopbackOf = (url: string): Address => {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return parseAddress(host === '::' || host === '::1' ? '::1' : '127.0.0.1') as Address;
};

/** A path as short as it reads: relative to `cwd` when inside it. */
const relativeTo = (cwd: string, path: string): string => {
  const near = relative(cwd, path);
  return near.startsWith('..') ? path : near;
};

/** The lines `npm start` prints: URL, sources and their allowlists, generated secrets, a ready-to-run signed request. */

export const bannerLines = (local: LocalHookwarden, cwd: string = process.cwd()): string[] => {
  const near = relative(cwd, local.dataDir);
  const dataDir = near === '' ? '.' : near.startsWith('..') ? local.dataDir : near;
  // The CLI finds this server through the data directory: in another shell it needs the same one (and the same secret
  // variable), which the hints say rather than leave to a user who exported them in this shell only.
  const cli =
    local.dataDir === resolve(cwd, '.hookwarden') ? 'npx hookwarden' : `HOOKWARDEN_DATA_DIR=${shellQuote(dataDir)} npx hookwarden`;
  const lines = [
    `Hookwarden is listening on ${local.url}`,
    `Store: dynalite at ${local.store.endpoint}, data in ${dataDir}/`,
    '',
    'Sources:',
  ];
  const loopback = loopbackOf(local.url);
  const denied: SourceConfig[] = [];
  for (const source of local.config.sources.values()) {
    const secret =
      source.secret?.kind === 'env'
        ? source.secret.variable
        : source.secret?.kind === 'keyFile'
          ? relativeTo(cwd, source.secret.secretId)
          : 'Secrets Manager';
    lines.push(`  ${source.name.padEnd(12)} ${source.schemeName.padEnd(18)} POST ${local.url}/webhooks/${source.name}   secret: ${secret}`);
    lines.push(`  ${''.padEnd(12)} allowed IPs: ${source.allowedIps.length === 0 ? 'any' : source.allowedIps.join(', ')}`);
    const key = source.secret?.kind === 'env' ? source.secret.values[0] : local.generatedSecrets.get(source.name);
    if (key !== undefined && !signsTimestamp(source, key)) {
      lines.push(
        `  ${''.padEnd(12)} replay window: ${source.schemeName} signs no timestamp, so a captured delivery is refused as a duplicate for ${duration(source.retentionSeconds)} (retentionSeconds), and accepted again after that until the key is rotated`,
      );
    }
    if (source.allowedIps.length > 0 && !addressMatcher(source.allowedIps).contains(loopback)) denied.push(source);
  }
  if (local.config.acceptedRisks.length > 0) {
    lines.push('', `Accepted risks (acceptRisks / HOOKWARDEN_ACCEPT_RISKS): ${local.config.acceptedRisks.join(', ')}`);
  }
  for (const source of denied) {
    lines.push(
      '',
      `Warning: "${source.name}" allows only ${source.allowedIps.join(', ')}: a request from this machine (${loopback.ip}) gets 403 ip_denied. Add ${loopback.ip} to its allowed IPs to try it locally.`,
    );
  }
  for (const [name, secret] of local.generatedSecrets) {
    lines.push(
      '',
      `No secret configured for "${name}": generated a development secret (kept in ${dataDir}/dev-secrets.json) to start the key document ${dataDir}/keys/${name}.json, which holds the keys the server accepts (hookwarden rotate ${name} changes them). Its current key, to sign with:`,
    );
    lines.push(`  ${secret}`);
  }
  // The example must work: the first source this machine may reach, with a secret known here.
  const keyOf = (s: SourceConfig): string | undefined =>
    s.secret?.kind === 'env' ? s.secret.values[0] : local.generatedSecrets.get(s.name);
  const example = [...local.config.sources.values()].find((s) => !denied.includes(s) && keyOf(s));
  const exampleKey = example && keyOf(example);
  if (example && exampleKey) {
    const key = exampleKey;
    const body = sampleBody(example.schemeName);
    const headers = example.scheme.sign(key, { body: Buffer.from(body) });
    const flags = Object.entries(headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`);
    const validity = signsTimestamp(example, key)
      ? `signed now; a signed timestamp stays valid for ${example.maxAgeSeconds} s`
      : `${example.schemeName} signs no timestamp: this request stays valid, and a second copy is a duplicate`;
    lines.push('', `Try it (${validity}):`);
    lines.push(
      `  curl -i -X POST ${local.url}/webhooks/${example.name} -H 'content-type: application/json' ${flags.join(' ')} --data ${shellQuote(body)}`,
    );
    const exported = example.secret?.kind === 'env' ? `; in a shell with ${example.secret.variable} exported` : '';
    lines.push('', `Or sign at send time (any time${exported}):`, `  ${cli} send ${example.name}`);
  }
  lines.push('', `Console: ${local.url}/ (deliveries and rejections as they happen; this machine only)`);
  lines.push(`Health: ${local.url}/health  ${local.url}/health/ready`, `Stored deliveries: ${cli} deliveries`, 'Press Ctrl+C to stop.');
  return lines;
};
