// Local server throughput: Hookwarden's `npm start` against a bare node:http floor with the same embedded
// store (dynalite in its own process, on disk), alternated (A B A B) in one run, 16 in flight, 1 KiB bodies.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { print } from './measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const KEY = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
const IN_FLIGHT = Number(process.env.BENCH_SERVER_IN_FLIGHT ?? 16);
const ROUNDS = Number(process.env.BENCH_SERVER_ROUNDS ?? 7);
/**
 * Load before the rounds, per server, in alternated slices. Both servers keep
 * speeding up for about ten seconds of load (the SDK, dynalite and its
 * condition parser are a lot of code to optimize): with one second of warm-up,
 * the floor's CPU per delivery fell from 3.1 ms in the first round to 1.2 ms in
 * the eighth, and the first rounds' ratios said more about the JIT than about
 * either server.
 */
const WARM_UP_SECONDS = Number(process.env.BENCH_SERVER_WARM_UP_SECONDS ?? 8);
const SECONDS_PER_ROUND = Number(process.env.BENCH_SERVER_SECONDS ?? 3);
const GOAL = 0.75;
const BODY = (() => {
  const head = '{"type":"invoice.paid","data":{"note":"';
  const tail = '"}}';
  return Buffer.from(head + 'x'.repeat(1024 - head.length - tail.length) + tail);
})();

interface Server {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
}

const waitFor = async <T>(what: string, poll: () => T | undefined, timeoutMs = 90_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = poll();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not start within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/**
 * Hookwarden as `npm start` runs it (tsx, its own dynalite on disk, logs to standard output), or with `compiledIn` the
 * same server compiled by tsc (`npm run build`'s JavaScript, in that directory) and run by node alone.
 */
const startHookwarden = async (dataDir: string, compiledIn?: string): Promise<Server> => {
  // BENCH_PROFILE_DIR=dir writes CPU profiles of every server there (node --cpu-prof; the floors' in dir/floor and
  // dir/floor-store, the compiled server's in dir/compiled).
  const profileDir =
    process.env.BENCH_PROFILE_DIR && (compiledIn ? join(process.env.BENCH_PROFILE_DIR, 'compiled') : process.env.BENCH_PROFILE_DIR);
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const entry = compiledIn ? [join(compiledIn, 'bin', 'server.js')] : ['--import', 'tsx', 'bin/server.ts'];
  const child = spawn(process.execPath, [...profile, ...entry], {
    cwd: ROOT,
    env: { ...process.env, WEBHOOK_SECRET: SECRET, PORT: '0', HOOKWARDEN_DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: 'INFO' },
    stdio: 'ignore',
  });
  const file = join(dataDir, 'server.json');
  const info = await waitFor('npm start', () =>
    existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { url: string }) : undefined,
  );
  return { name: compiledIn ? 'hookwarden compiled (node, no tsx)' : 'hookwarden (npm start)', url: info.url, child };
};

/**
 * The floor, with its own embedded store, run as npm start runs (tsx). With `store: 'hookwarden'`, the same bare
 * server storing through Hookwarden's DynamoDbDeliveryStore: not the goal's baseline, but the part of the gap that is
 * the stored item (its attributes, index keys, condition and gzip) rather than the pipeline around it.
 */
const startFloor = async (dataDir: string, store?: 'hookwarden'): Promise<Server> => {
  const name = store ? 'floor storing as Hookwarden does' : 'bare node:http floor';
  const dir = store ? 'floor-store' : 'floor';
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/${dir}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'bench/server-floor.ts'], {
    cwd: ROOT,
    env: { ...process.env, FLOOR_DATA_DIR: dataDir, FLOOR_SECRET: SECRET, ...(store ? { FLOOR_STORE: store } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench: the floor server exited (${code})`)));
  });
  return { name, url: (JSON.parse(line) as { url: string }).url, child };
};

/**
 * `npm run build`'s compilation (tsconfig.build.json) into `out`, inside the project so that its imports find
 * node_modules; returns `out`.
 */
const compile = (out: string): string => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', out], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return out;
};

const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });

const send = (url: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const id = `msg_${randomUUID()}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', KEY).update(`${id}.${timestamp}.`).update(BODY).digest('base64');
    const req = request(
      `${url}/webhooks/default`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': BODY.length,
          'webhook-id': id,
          'webhook-timestamp': timestamp,
          'webhook-signature': `v1,${signature}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });

/** Deliveries per second and latencies over about `seconds`, `IN_FLIGHT` at a time; every answer must be 202. */
const load = async (url: string, seconds: number): Promise<{ perSecond: number; latencies: number[] }> => {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const sent = performance.now();
      const status = await send(url);
      if (status !== 202) throw new Error(`bench: ${url} answered ${status}, not 202`);
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return { perSecond: latencies.length / ((performance.now() - start) / 1000), latencies };
};

/**
 * CPU seconds a process has used, or with `mainThread` only its main (JavaScript) thread (Linux /proc;
 * `undefined` elsewhere). Throughput on a shared machine moves with its neighbours' load; CPU time per
 * delivery moves far less, so it is printed beside it. Each server saturates its main thread under this
 * load (LevelDB's work runs on other threads), so that thread's time per delivery is what bounds its rate.
 */
const cpuSecondsOf = (pid: number | undefined, mainThread = false): number | undefined => {
  try {
    const fields =
      readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8')
        .split(') ')[1]
        ?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
};

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const stop = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** Per-round ratios of `a` to `b` (same round, so the same neighbours' load), or `undefined` when a round lacks one. */
const perRoundRatios = (a: readonly number[], b: readonly number[]): number[] | undefined =>
  a.length === ROUNDS && b.length === ROUNDS ? a.map((x, i) => x / (b[i] as number)) : undefined;

/**
 * Prints each server's throughput and p50 latency, the medians of per-round ratios to the floor, and whether the
 * goal holds. A third server, the floor storing through Hookwarden's delivery store, splits the gap in two: the
 * stored item's cost, and the pipeline's (middleware, logging, the HTTP-to-event adapter).
 */
export const serverThroughputBenchmark = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'hookwarden-bench-'));
  const compiledDir = join(ROOT, '.tmp', `bench-compiled-${process.pid}`);
  const started: Server[] = [];
  try {
    const floor = await startFloor(join(dir, 'floor'));
    started.push(floor);
    const floorStore = await startFloor(join(dir, 'floor-store'), 'hookwarden');
    started.push(floorStore);
    const hookwarden = await startHookwarden(join(dir, 'data'));
    started.push(hookwarden);
    const servers = [floor, floorStore, hookwarden];
    // BENCH_SERVER_COMPILED=1: a fourth server in the same rounds, npm start's code compiled by tsc and run without tsx,
    // the candidate "tsx at run time instead of compiled JavaScript".
    const compiled =
      process.env.BENCH_SERVER_COMPILED === '1' ? await startHookwarden(join(dir, 'compiled-data'), compile(compiledDir)) : undefined;
    if (compiled) {
      started.push(compiled);
      servers.push(compiled);
    }
    // Warm: JIT, connections, the blocklist cache.
    for (let slice = 0; slice < 4; slice++) for (const server of servers) await load(server.url, WARM_UP_SECONDS / 4);
    const rates = new Map<Server, number[]>(servers.map((s) => [s, []]));
    const p50s = new Map<Server, number[]>(servers.map((s) => [s, []]));
    const cpuPerDelivery = new Map<Server, number[]>(servers.map((s) => [s, []]));
    const mainPerDelivery = new Map<Server, number[]>(servers.map((s) => [s, []]));
    // Every process counts (the idle ones add little): each holds its own store.
    const cpuOfAll = (): number | undefined => {
      const each = servers.map((s) => cpuSecondsOf(s.child.pid));
      return each.includes(undefined) ? undefined : (each as number[]).reduce((a, b) => a + b, 0);
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const server of servers) {
        const cpuBefore = cpuOfAll();
        const mainBefore = cpuSecondsOf(server.child.pid, true);
        const { perSecond, latencies } = await load(server.url, SECONDS_PER_ROUND);
        const cpuAfter = cpuOfAll();
        const mainAfter = cpuSecondsOf(server.child.pid, true);
        if (mainBefore !== undefined && mainAfter !== undefined)
          mainPerDelivery.get(server)?.push((mainAfter - mainBefore) / latencies.length);
        rates.get(server)?.push(perSecond);
        p50s.get(server)?.push(median(latencies));
        if (cpuBefore !== undefined && cpuAfter !== undefined) cpuPerDelivery.get(server)?.push((cpuAfter - cpuBefore) / latencies.length);
      }
    }
    const of = (values: Map<Server, number[]>, server: Server) => values.get(server) as number[];
    /** Median ratios of `server` to `base`: throughput, and CPU and main-thread time per delivery (base ÷ server). */
    const ratiosTo = (server: Server, base: Server) => {
      const medianOf = (values: number[] | undefined) => (values ? median(values) : undefined);
      // Every round has a rate for each server.
      const perRound = perRoundRatios(of(rates, server), of(rates, base)) as number[];
      return {
        perRound,
        throughput: median(perRound),
        cpu: medianOf(perRoundRatios(of(cpuPerDelivery, base), of(cpuPerDelivery, server))),
        main: medianOf(perRoundRatios(of(mainPerDelivery, base), of(mainPerDelivery, server))),
      };
    };
    const toFloor = ratiosTo(hookwarden, floor);
    const storeToFloor = ratiosTo(floorStore, floor);
    const toFloorStore = ratiosTo(hookwarden, floorStore);
    const text = (value: number | undefined) => value?.toFixed(2) ?? '-';
    print(
      `## Local server throughput (${IN_FLIGHT} in flight, 1 KiB Standard Webhooks deliveries, ${ROUNDS} alternated rounds of ${SECONDS_PER_ROUND} s, medians)`,
    );
    print('');
    print('| server | deliveries/s | p50 latency | ÷ floor | CPU per delivery | floor ÷ this | main thread per delivery | floor ÷ this |');
    print('|---|---|---|---|---|---|---|---|');
    for (const server of servers) {
      const msText = (values: number[]) => (values.length === ROUNDS ? `${(median(values) * 1e3).toFixed(2)} ms` : '-');
      const relative = server === floor ? undefined : ratiosTo(server, floor);
      const cells = relative ? [relative.throughput, relative.cpu, relative.main].map(text) : ['1.00', '1.00', '1.00'];
      print(
        `| ${server.name} | ${median(of(rates, server)).toFixed(0)} | ${median(of(p50s, server)).toFixed(1)} ms | ${cells[0]} | ${msText(of(cpuPerDelivery, server))} | ${cells[1]} | ${msText(of(mainPerDelivery, server))} | ${cells[2]} |`,
      );
    }
    print('');
    print(
      `Ratios are medians of per-round ratios (Hookwarden's to the floor, this run's, in order: ${toFloor.perRound
        .map((r) => r.toFixed(2))
        .join(
          ', ',
        )}). CPU per delivery: every server process, each with its own embedded store; main thread: the loaded server's JavaScript thread alone, which bounds its rate.`,
    );
    print(`Each server had ${WARM_UP_SECONDS} s of load before the rounds.`);
    print(
      `The floor: node:http, Standard Webhooks verification with node:crypto, one conditional PutItem to its own embedded dynalite, as npm start has; Node ${process.versions.node}.`,
    );
    print(
      `The gap, split: the floor storing through Hookwarden's DynamoDbDeliveryStore (the same item, index keys, condition and gzip; nothing else of npm start) runs at ${text(storeToFloor.throughput)}× the floor (main thread ${text(storeToFloor.main)}×); npm start runs at ${text(toFloorStore.throughput)}× that (main thread ${text(toFloorStore.main)}×), which is the pipeline: middleware, logging, the HTTP-to-event adapter.`,
    );
    if (compiled) {
      const compiledToHookwarden = ratiosTo(compiled, hookwarden);
      print(
        `Compiled: npm start's code compiled by tsc and run by node without tsx runs at ${text(ratiosTo(compiled, floor).throughput)}× the floor, ${text(compiledToHookwarden.throughput)}× npm start (main thread ${text(compiledToHookwarden.main)}×).`,
      );
    }
    const ratio = toFloor.throughput;
    print(ratio >= GOAL ? `Goal met: at least ${GOAL}× the floor.` : `Goal missed: ${ratio.toFixed(2)}× the floor (goal ${GOAL}×).`);
    print('');
  } finally {
    agent.destroy();
    for (const server of started) await stop(server.child);
    rmSync(dir, { recursive: true, force: true });
    rmSync(compiledDir, { recursive: true, force: true });
  }
};
