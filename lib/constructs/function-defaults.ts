import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { RemovalPolicy, Stack, Stage, type Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import {
  NodejsFunction,
  OutputFormat,
  type BundlingOptions,
  type ICommandHooks,
  type NodejsFunctionProps,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { bundlingRoot, functionEntry, ROOT } from './paths.js';

/** One POSIX shell word (local bundling runs the hooks in bash). */
const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** What every Hookwarden function runs on: Node.js 24 on arm64, the module's `handler` export. */
export const FUNCTION_RUNTIME = { handler: 'handler', runtime: Runtime.NODEJS_24_X, architecture: Architecture.ARM_64 } as const;

/**
 * Rewrites each source map in `dir` so that its sources are relative to `root` (the project esbuild bundled from),
 * not to the folder esbuild wrote to. That folder is inside the cloud assembly: with an assembly outside the project
 * (`cdk synth -o /tmp/out`) the map named the deployer's own directories, which then showed in every stack trace
 * Lambda logs, and the asset's hash changed with where the assembly was. On Lambda a frame now reads
 * `/var/task/core/….ts` wherever the synth ran.
 */
const RELATIVE_SOURCES = `
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative, resolve, sep } = require('node:path');
const [dir, root] = process.argv.slice(1);
for (const file of readdirSync(dir).filter((name) => name.endsWith('.map'))) {
  const map = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  map.sources = map.sources.map((source) => relative(root, resolve(dir, map.sourceRoot ?? '', source)).split(sep).join('/'));
  delete map.sourceRoot;
  writeFileSync(join(dir, file), JSON.stringify(map));
}`;

/** The command that runs {@link RELATIVE_SOURCES} on the bundle, with the Node.js that runs the synth. */
const relativeSourcesCommand = (inputDir: string, outputDir: string): string =>
  [process.execPath, '-e', RELATIVE_SOURCES, outputDir, inputDir].map(shellQuote).join(' ');

/**
 * How every Hookwarden function is bundled: minified ESM with source maps (mappings only, their sources relative to
 * the project), by the local esbuild (never Docker), with `hooks` when given (the webhook function copies its
 * configuration beside the bundle).
 */
export const functionBundling = (hooks?: ICommandHooks): BundlingOptions => ({
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  // Stack traces need the map's mappings, not a copy of every source file: with --enable-source-maps
  // Node parses the whole map at every cold start, and without the sources' text it is 0.8 MB, not 2.2 MB
  // (the webhook function's module init: 0.90× wall, 0.92× CPU, 41 alternated cold starts on Node 24).
  sourcesContent: false,
  target: 'node24',
  mainFields: ['module', 'main'],
  // Ship the pinned SDK (package-lock.json) rather than the runtime's: the code deployed is the code tested.
  externalModules: [],
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  forceDockerBundling: false,
  commandHooks: {
    beforeBundling: (inputDir, outputDir) => hooks?.beforeBundling(inputDir, outputDir) ?? [],
    beforeInstall: (inputDir, outputDir) => hooks?.beforeInstall(inputDir, outputDir) ?? [],
    afterBundling: (inputDir, outputDir) => [
      ...(hooks?.afterBundling(inputDir, outputDir) ?? []),
      relativeSourcesCommand(inputDir, outputDir),
    ],
  },
});

/** Where to look for esbuild, and the environment to run it in (tests give their own). */
export interface EsbuildLookup {
  /** A file whose `node_modules` chain is searched. @default aws-cdk-lib's package.json, where NodejsFunction searches */
  readonly from?: string;
  /** The environment `esbuild --version` runs in (its PATH). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The version of the esbuild NodejsFunction would bundle with locally, found as
 * it finds one: installed where aws-cdk-lib can require it, else an `esbuild`
 * on the PATH. `undefined` when there is none, and NodejsFunction would then
 * switch to Docker.
 */
export const localEsbuildVersion = (lookup: EsbuildLookup = {}): string | undefined => {
  try {
    const from = lookup.from ?? createRequire(import.meta.url).resolve('aws-cdk-lib/package.json');
    return (createRequire(from)('esbuild/package.json') as { version: string }).version;
  } catch {
    // Not installed beside aws-cdk-lib: try the PATH, as NodejsFunction does.
  }
  const run = spawnSync('esbuild', ['--version'], { env: lookup.env ?? process.env, encoding: 'utf8' });
  return run.status === 0 && !run.error ? run.stdout.trim() : undefined;
};

let foundEsbuild: string | undefined;

/**
 * Fails the synth with what to do when a stack that bundles has no local
 * esbuild: NodejsFunction would otherwise print "Switching to Docker bundling"
 * and fail on a machine without Docker, or bundle in a container Hookwarden
 * never tested. Stacks that skip bundling (`cdk destroy`, `cdk ls`, `--exclusively`
 * another stack) need no esbuild.
 * @throws Error naming the package to install
 */
export const requireLocalEsbuild = (scope: Construct, find: () => string | undefined = localEsbuildVersion): void => {
  if (!Stack.of(scope).bundlingRequired) return;
  // Looked up once per synth (it may spawn a process); an injected finder is asked every time.
  const version = find === localEsbuildVersion ? (foundEsbuild ??= find()) : find();
  if (version === undefined) {
    throw new Error(
      'Hookwarden bundles its functions with a local esbuild, never Docker, and this project has none: install it beside aws-cdk-lib (npm install --save-dev esbuild)',
    );
  }
};

/**
 * A NodejsFunction, after {@link requireLocalEsbuild}: every function
 * Hookwarden bundles is made here (`test/infra/local-esbuild.test.ts` finds no
 * other `new NodejsFunction` in `lib/`), so none can fall back to Docker.
 * A team's function factory makes its own, after WebhookFunctions has made the same check.
 */
export const bundledFunction = (
  scope: Construct,
  id: string,
  props: NodejsFunctionProps,
  find: () => string | undefined = localEsbuildVersion,
): NodejsFunction => {
  requireLocalEsbuild(scope, find);
  return new NodejsFunction(scope, id, props);
};

/** Options of {@link ownRoleAndLogs}. */
export interface OwnRoleAndLogsOptions {
  /** The role's description. */
  readonly description: string;
  /** @default RetentionDays.THREE_MONTHS */
  readonly retention?: RetentionDays;
  /** Production keeps the log group when the stack goes. */
  readonly production: boolean;
}

/**
 * A function's own role (no managed policy: each grant is added where it is
 * needed) and its own log group with a retention, which the role may write:
 * `<name>Role` and `<name>Logs` in `scope`.
 */
export const ownRoleAndLogs = (scope: Construct, name: string, options: OwnRoleAndLogsOptions): { role: Role; logGroup: LogGroup } => {
  const role = new Role(scope, `${name}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: options.description,
  });
  const logGroup = new LogGroup(scope, `${name}Logs`, {
    retention: options.retention ?? RetentionDays.THREE_MONTHS,
    removalPolicy: options.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  logGroup.grantWrite(role);
  return { role, logGroup };
};

/** Options of {@link ownFunction}. */
export interface OwnFunctionOptions extends OwnRoleAndLogsOptions {
  /** The handler module, relative to the repository and without its extension, e.g. `functions/reader/handler`. */
  readonly entry: string;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /**
   * Files shipped beside the bundle (name → content), which the function reads
   * from its working directory: data that grows with the number of sources goes
   * here, not in the environment (Lambda allows 4 KB of it in all). @default none
   */
  readonly files?: Readonly<Record<string, string>>;
  /** Concurrent executions reserved for the function, which are also its most. @default none */
  readonly reservedConcurrentExecutions?: number;
}

/** Writes `files` beside the cloud assembly and returns the hooks that copy them into the bundle after esbuild (the asset hash covers them). */
const copyFilesHooks = (scope: Construct, name: string, files: Readonly<Record<string, string>>): ICommandHooks => {
  const dir = join(Stage.of(scope)?.outdir ?? ROOT, 'hookwarden-config', `${scope.node.addr}-${name}`);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) =>
      Object.keys(files).map((file) => `cp ${shellQuote(join(dir, file))} ${shellQuote(join(outputDir, file))}`),
  };
};

/**
 * One of Hookwarden's own functions (not the webhook function, which a team may
 * replace): 256 MB, {@link FUNCTION_RUNTIME}, {@link functionBundling}, with its
 * own role and log group ({@link ownRoleAndLogs}): `<name>`, `<name>Role` and
 * `<name>Logs` in `scope`.
 */
export const ownFunction = (
  scope: Construct,
  name: string,
  options: OwnFunctionOptions,
): { fn: NodejsFunction; role: Role; logGroup: LogGroup } => {
  const { role, logGroup } = ownRoleAndLogs(scope, name, options);
  const fn = bundledFunction(scope, name, {
    ...FUNCTION_RUNTIME,
    entry: functionEntry(options.entry),
    memorySize: 256,
    timeout: options.timeout,
    role,
    logGroup,
    environment: options.environment,
    ...(options.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: options.reservedConcurrentExecutions } : {}),
    ...bundlingRoot(),
    bundling: functionBundling(options.files ? copyFilesHooks(scope, name, options.files) : undefined),
  });
  return { fn, role, logGroup };
};
