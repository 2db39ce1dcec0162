// Cold start: module init of the webhook function's bundle against a bare Middy + Powertools + DynamoDB
// client bundle built the same way, each imported by a fresh Node 24 process (the Lambda runtime), alternated.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleLikeCdk, ROOT, type Bundle } from './bundle.js';
import { print } from './measure.js';

const NODE_24 = join(ROOT, 'node_modules/node/bin/node');
/**
 * Pairs of imports. With 11, nine runs of the same code gave 1.04-1.37× wall (one run of the nine
 * over the goal); with 31, six runs gave 1.00-1.18×. A pair takes about 0.4 s.
 */
const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 31);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
  throw new Error(`BENCH_COLD_ROUNDS: a whole number of pairs, at least 1, expected; got ${process.env.BENCH_COLD_ROUNDS}`);
const GOAL = 1.2;
/** What the webhook function's init needs to succeed without AWS: one source whose secret is in the environment. */
const ENV = { WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', AWS_REGION: 'us-east-1', NODE_OPTIONS: '--enable-source-maps' };
// Wall time and this process's CPU time of the import, which runs every top-level statement of the bundle.
const PROBE =
  'const c = process.cpuUsage(); const t = performance.now(); await import(process.argv[1]); const u = process.cpuUsage(c); console.log(JSON.stringify({ wall: performance.now() - t, cpu: (u.user + u.system) / 1e3 }));';

interface Init {
  readonly wall: number;
  readonly cpu: number;
}

const initOf = (bundle: Bundle): Init => {
  const run = spawnSync(NODE_24, ['--input-type=module', '-e', PROBE, bundle.file], { env: { ...process.env, ...ENV }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`bench: importing ${bundle.file} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as Init;
};

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;

/** Prints bundle sizes, init times on Node 24 and the ratio of medians of per-pair ratios. */
export const coldStartBenchmark = async (): Promise<void> => {
  if (!existsSync(NODE_24)) {
    print('## Cold start: skipped (node_modules/node/bin/node is missing: npm ci installs the `node` devDependency, Node 24)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hookwarden-cold-'));
  try {
    const ours = await bundleLikeCdk('functions/webhook/handler.ts', join(dir, 'webhook'));
    const bare = await bundleLikeCdk('bench/cold-start-bare.ts', join(dir, 'bare'));
    const version = spawnSync(NODE_24, ['--version'], { encoding: 'utf8' }).stdout.trim();
    for (const bundle of [bare, ours]) initOf(bundle); // the file system cache, for both alike
    const samples = { ours: [] as Init[], bare: [] as Init[] };
    for (let round = 0; round < ROUNDS; round++) {
      // A B, then B A: neither always goes first.
      const order = round % 2 === 0 ? (['bare', 'ours'] as const) : (['ours', 'bare'] as const);
      for (const which of order) samples[which].push(initOf(which === 'ours' ? ours : bare));
    }
    const ratio = (field: keyof Init) => median(samples.ours.map((s, i) => s[field] / (samples.bare[i] as Init)[field]));
    const gz = (bundle: Bundle) => gzipSync(readFileSync(bundle.file)).length;
    print(
      `## Cold start (module init in a fresh ${version} process, ${ROUNDS} alternated pairs, medians; bundles built as the CDK builds them, source maps of mappings only, on)`,
    );
    print('');
    print('| bundle | minified | gzip | init (wall) | init (CPU) |');
    print('|---|---|---|---|---|');
    for (const [name, bundle, runs] of [
      ['bare Middy + Powertools + DynamoDB client', bare, samples.bare],
      ['Hookwarden webhook function', ours, samples.ours],
    ] as const) {
      print(
        `| ${name} | ${kb(bundle.bytes)} | ${kb(gz(bundle))} | ${median(runs.map((r) => r.wall)).toFixed(0)} ms | ${median(runs.map((r) => r.cpu)).toFixed(0)} ms |`,
      );
    }
    print('');
    const wall = ratio('wall');
    const cpu = ratio('cpu');
    print(`Ours ÷ bare: ${wall.toFixed(2)}× wall, ${cpu.toFixed(2)}× CPU; Hookwarden adds ${kb(ours.bytes - bare.bytes)} minified.`);
    print(
      wall <= GOAL
        ? `Goal met: at most ${GOAL}× the bare bundle's init.`
        : `Goal missed: ${wall.toFixed(2)}× the bare bundle's init (goal ${GOAL}×).`,
    );
    print('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
