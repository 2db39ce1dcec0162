// Cold start: module init of the webhook function's bundle against a bare Middy + Powertools + DynamoDB
// client bundle built the same way, each imported by a fresh Node 24 process (the Lambda runtime), alternated.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleLikeCdk, ROOT, type Bundle } from './bundle.js';
import { print } from './measure.js';

const NODE_24 = join(ROOT, 'node_modules/node/bin/node');
/**
 * Rounds, each one import of every variant. With 11 pairs (ours and bare only), nine runs of the same code
 * gave 1.04-1.37× wall (one run of the nine over the goal); with 31, six runs gave 1.00-1.18×. A round of
 * the four variants takes about 0.8 s.
 */
const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 31);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
  throw new Error(`BENCH_COLD_ROUNDS: a whole number of rounds, at least 1, expected; got ${process.env.BENCH_COLD_ROUNDS}`);
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

const initOf = (bundle: Bundle, sourceMaps = true): Init => {
  const env = { ...process.env, ...ENV, ...(sourceMaps ? {} : { NODE_OPTIONS: '' }) };
  const run = spawnSync(NODE_24, ['--input-type=module', '-e', PROBE, bundle.file], { env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`bench: importing ${bundle.file} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as Init;
};

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;

/** Prints bundle sizes, init times on Node 24, the goal's ratio (median of per-round ratios) and what the source maps cost. */
export const coldStartBenchmark = async (): Promise<void> => {
  if (!existsSync(NODE_24)) {
    print('## Cold start: skipped (node_modules/node/bin/node is missing: npm ci installs the `node` devDependency, Node 24)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hookwarden-cold-'));
  try {
    const ours = await bundleLikeCdk('functions/webhook/handler.ts', join(dir, 'webhook'));
    const bare = await bundleLikeCdk('bench/cold-start-bare.ts', join(dir, 'bare'));
    const withText = await bundleLikeCdk('functions/webhook/handler.ts', join(dir, 'webhook-text'), { sourcesContent: true });
    const version = spawnSync(NODE_24, ['--version'], { encoding: 'utf8' }).stdout.trim();
    // The goal's pair, then what the functions' source maps cost: the same bundle with the sources' text in
    // its map (esbuild's default), and without --enable-source-maps (the map is then never read).
    const variants = [
      { name: 'bare Middy + Powertools + DynamoDB client', bundle: bare, sourceMaps: true },
      { name: 'Hookwarden webhook function', bundle: ours, sourceMaps: true },
      { name: "the same, its map with the sources' text", bundle: withText, sourceMaps: true },
      { name: 'the same, without --enable-source-maps', bundle: ours, sourceMaps: false },
    ] as const;
    for (const v of variants) initOf(v.bundle, v.sourceMaps); // the file system cache, for all alike
    const samples = variants.map(() => [] as Init[]);
    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts with the next variant: none always goes first.
      for (let k = 0; k < variants.length; k++) {
        const index = (round + k) % variants.length;
        const v = variants[index] as (typeof variants)[number];
        samples[index]?.push(initOf(v.bundle, v.sourceMaps));
      }
    }
    const [bareRuns, ourRuns, textRuns, noMapRuns] = samples as [Init[], Init[], Init[], Init[]];
    const ratio = (runs: Init[], base: Init[], field: keyof Init) => median(runs.map((s, i) => s[field] / (base[i] as Init)[field]));
    const gz = (bundle: Bundle) => gzipSync(readFileSync(bundle.file)).length;
    const mapSize = (bundle: Bundle) => statSync(`${bundle.file}.map`).size;
    print(
      `## Cold start (module init in a fresh ${version} process, ${ROUNDS} alternated rounds, medians; bundles built as the CDK builds them, with --enable-source-maps as the functions run)`,
    );
    print('');
    print('| bundle | minified | gzip | source map | init (wall) | init (CPU) |');
    print('|---|---|---|---|---|---|');
    variants.forEach((v, k) => {
      const runs = samples[k] as Init[];
      const map = v.sourceMaps ? kb(mapSize(v.bundle)) : 'not read';
      print(
        `| ${v.name} | ${kb(v.bundle.bytes)} | ${kb(gz(v.bundle))} | ${map} | ${median(runs.map((r) => r.wall)).toFixed(0)} ms | ${median(runs.map((r) => r.cpu)).toFixed(0)} ms |`,
      );
    });
    print('');
    const wall = ratio(ourRuns, bareRuns, 'wall');
    const cpu = ratio(ourRuns, bareRuns, 'cpu');
    print(`Ours ÷ bare: ${wall.toFixed(2)}× wall, ${cpu.toFixed(2)}× CPU; Hookwarden adds ${kb(ours.bytes - bare.bytes)} minified.`);
    print(
      wall <= GOAL
        ? `Goal met: at most ${GOAL}× the bare bundle's init.`
        : `Goal missed: ${wall.toFixed(2)}× the bare bundle's init (goal ${GOAL}×).`,
    );
    print(
      `Source maps, ours ÷ the same with the sources' text in the map: ${(1 / ratio(textRuns, ourRuns, 'wall')).toFixed(2)}× wall, ${(1 / ratio(textRuns, ourRuns, 'cpu')).toFixed(2)}× CPU; ` +
        `without --enable-source-maps ÷ ours: ${ratio(noMapRuns, ourRuns, 'wall').toFixed(2)}× wall, ${ratio(noMapRuns, ourRuns, 'cpu').toFixed(2)}× CPU.`,
    );
    print('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
