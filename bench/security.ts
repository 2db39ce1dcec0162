// Hostile traffic at volume: 10,000 generated requests per family against the real
// local server (the generator of test/security, which sends a few hundred in CI).
import { startSecurityTarget } from '../test/security/target.js';
import { DEFAULT_SEED, FAMILIES, hostileCases } from '../test/security/traffic.js';
import { sendAll, summarize, type Finding } from '../test/security/verdict.js';
import { print } from './measure.js';

/**
 * Sends `perFamily` cases of every family (`HOOKWARDEN_SECURITY_COUNT`, default
 * 10,000; seed `HOOKWARDEN_SECURITY_SEED`) and prints the answers by family and
 * status, every finding grouped, and whether a valid delivery is still accepted.
 */
export const securityBenchmark = async (): Promise<void> => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const perFamily = Number(process.env.HOOKWARDEN_SECURITY_COUNT ?? 10_000);
  const seed = Number(process.env.HOOKWARDEN_SECURITY_SEED ?? DEFAULT_SEED);
  const target = await startSecurityTarget();
  const findings: Finding[] = [];
  print(`## Hostile traffic against the local server (${perFamily} per family, seed ${seed})`);
  print('');
  print('| family | answers by status (closed: no answer; held: waited for the rest of an incomplete request) | findings | seconds |');
  print('|---|---|---|---|');
  for (const family of FAMILIES) {
    const started = performance.now();
    const result = await sendAll(hostileCases(family, perFamily, seed, target.sources), { port: target.port, forbidden: target.forbidden });
    const counts = [...result.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    print(`| ${family} | ${counts} | ${result.findings.length} | ${((performance.now() - started) / 1000).toFixed(0)} |`);
    findings.push(...result.findings);
  }
  print('');
  const healthy = await target.validDeliveries();
  print(
    `A valid signed delivery afterwards, per source: ${Object.entries(healthy)
      .map(([source, status]) => `${source} ${status}`)
      .join(', ')}`,
  );
  print('');
  print(findings.length === 0 ? 'No findings.' : 'Findings (count × problems | kind: example):');
  for (const line of summarize(findings).slice(0, 40)) print(`- ${line}`);
  print('');
  await target.close();
};
