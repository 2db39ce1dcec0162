import { relative } from 'node:path';
import type { LocalHookwarden } from './index';
import { sampleBody, shellQuote } from './sample';

/** The lines `npm start` prints: URL, sources, generated secrets, a ready-to-run signed request. */
export const bannerLines = (local: LocalHookwarden, cwd: string = process.cwd()): string[] => {
  const near = relative(cwd, local.dataDir);
  const dataDir = near === '' ? '.' : near.startsWith('..') ? local.dataDir : near;
  const lines = [`Hookwarden is listening on ${local.url}`, `Store: dynalite at ${local.store.endpoint}, data in ${dataDir}/`, '', 'Sources:'];
  for (const source of local.config.sources.values()) {
    const secret = source.secret?.kind === 'env' ? source.secret.variable : 'Secrets Manager';
    lines.push(`  ${source.name.padEnd(12)} ${source.schemeName.padEnd(18)} POST ${local.url}/webhooks/${source.name}   secret: ${secret}`);
  }
  for (const [name, secret] of local.generatedSecrets) {
    lines.push('', `No secret configured for "${name}": generated a development secret (kept in ${dataDir}/dev-secrets.json):`);
    lines.push(`  ${secret}`);
  }
  const first = local.config.sources.values().next().value;
  if (first?.secret?.kind === 'env' && first.secret.values[0]) {
    const body = sampleBody(first.schemeName);
    const headers = first.scheme.sign(first.secret.values[0], { body: Buffer.from(body) });
    const flags = Object.entries(headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`);
    lines.push('', `Try it (signed now; a signed timestamp stays valid for ${first.maxAgeSeconds} s):`);
    lines.push(`  curl -i -X POST ${local.url}/webhooks/${first.name} -H 'content-type: application/json' ${flags.join(' ')} --data ${shellQuote(body)}`);
    lines.push('', 'Or sign at send time (any time):', `  npx hookwarden send ${first.name}`);
  }
  lines.push('', `Health: ${local.url}/health  ${local.url}/health/ready`, 'Stored deliveries: npx hookwarden deliveries', 'Press Ctrl+C to stop.');
  return lines;
};
