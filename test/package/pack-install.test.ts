import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksHeaders } from '../helpers/signed.js';
import { consumerLockfile } from './consumer-lockfile.js';

/**
 * The package as a consumer gets it (issue 10): `npm pack` (which builds dist/
 * through "prepack"), then fresh projects outside the repository that install
 * the tarball with `npm ci --offline` from the npm cache the repository's own
 * `npm ci` filled. No registry, no network.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const MB = 1024 * 1024;
/** The target for `npm install hookwarden` used for its middleware only. */
const MIDDLEWARE_INSTALL_LIMIT_MB = 40;
/** Packages only the CDK, the command line or the local server need: none may land in a middleware-only install. */
const NOT_FOR_MIDDLEWARE = [
  'aws-cdk-lib',
  'constructs',
  'cdk-nag',
  'commander',
  'dynalite',
  'tsx',
  'esbuild',
  '@aws-sdk/client-cloudformation',
  '@aws-sdk/client-wafv2',
];

/** What the command line needs besides the package's own dependencies (optional peers). */
const CLI_PEERS = ['commander', 'dynalite', '@aws-sdk/client-cloudformation', '@aws-sdk/client-wafv2'];

/** Node.js versions to run the installed package on: this one, and Node 24 from the repository's `node` devDependency. */
const NODES: readonly (readonly [string, string])[] = [
  [process.versions.node, process.execPath],
  ...(existsSync(join(ROOT, 'node_modules', 'node', 'bin', 'node'))
    ? [['24', join(ROOT, 'node_modules', 'node', 'bin', 'node')] as const]
    : []),
];

/**
 * npm as a user runs it, without the outer `npm test`'s npm_* variables (they would steer the inner npm), and never on
 * the network whatever the machine's npmrc says: no registry request (offline), no audit, no funding notice, no update
 * check. A machine with no registry in reach would otherwise wait on each request's timeout (npm's is 5 minutes).
 */
const npmEnv = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name))),
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
});

/**
 * One npm command's limit. Idle, `npm pack` and the two offline installs take about 25 s together; on the 2-core CI
 * machine beside another test file they once passed 300 s. A command that hangs fails here, naming itself, with what
 * it printed, before the hook's own limit (which would name neither).
 */
const NPM_LIMIT_MS = 420_000;
/** How long each step of the set-up took, printed once it is done: CI's log then shows where the time goes. */
const steps: string[] = [];

const npm = async (args: string[], cwd: string): Promise<string> => {
  const started = Date.now();
  const command = `npm ${args.join(' ')}`;
  try {
    const { stdout } = await run('npm', args, { cwd, env: npmEnv(), maxBuffer: 64 * MB, timeout: NPM_LIMIT_MS, killSignal: 'SIGKILL' });
    steps.push(`${command} in ${cwd}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return stdout;
  } catch (error) {
    const { stdout, stderr, killed } = error as { stdout?: string; stderr?: string; killed?: boolean };
    const why = killed ? `did not finish in ${NPM_LIMIT_MS / 1000} s` : 'failed';
    throw new Error(`${command} ${why} in ${cwd}:\n${(stderr ?? '').slice(-4000)}\n${(stdout ?? '').slice(-2000)}`);
  }
};

/** Runs a file with a given node binary in `cwd` and a minimal environment; fails with its stderr. */
const node = async (binary: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> => {
  try {
    return (
      await run(binary, args, {
        cwd,
        env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
        maxBuffer: 16 * MB,
      })
    ).stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${binary} ${args.join(' ')} failed in ${cwd}:\n${(stderr ?? String(error)).slice(-4000)}`);
  }
};

const sizeMb = (dir: string): number => Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) / 1024;

/** Every installed copy of a package in a project's node_modules, nested ones included. */
const copiesOf = (nodeModules: string, name: string): string[] => {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const names = entry.name.startsWith('@') ? readdirSync(join(dir, entry.name)).map((child) => `${entry.name}/${child}`) : [entry.name];
      for (const pkg of names) {
        const at = join(dir, pkg);
        if (pkg === name && existsSync(join(at, 'package.json'))) found.push(at);
        walk(join(at, 'node_modules'));
      }
    }
  };
  walk(nodeModules);
  return found;
};

describe('the packed package installed offline into fresh projects', () => {
  let dir: string;
  let tarball: string;
  let packed: { name: string; version: string; [key: string]: unknown };
  let files: string[];
  /** The middleware-only consumer: hookwarden and nothing else. */
  let app: string;
  /** The consumer of everything: hookwarden plus its own aws-cdk-lib and constructs, and the command line's peers. */
  let cdkApp: string;

  const project = async (name: string, alsoInstall: string[] = []): Promise<string> => {
    const at = join(dir, name);
    mkdirSync(at);
    const { packageJson, lockfile } = consumerLockfile({
      repoLockfile: join(ROOT, 'package-lock.json'),
      tarball: { spec: `file:../${tarball}`, path: join(dir, tarball) },
      packed,
      alsoInstall,
    });
    writeFileSync(join(at, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
    writeFileSync(join(at, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);
    await npm(['ci', '--offline', '--no-audit', '--no-fund'], at);
    return at;
  };

  beforeAll(
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'hookwarden-pack-'));
      const [pack] = JSON.parse(await npm(['pack', '--json', '--pack-destination', dir], ROOT)) as {
        filename: string;
        files: { path: string }[];
      }[];
      tarball = pack!.filename;
      files = pack!.files.map((file) => file.path);
      packed = JSON.parse(
        execFileSync('tar', ['-xzOf', join(dir, tarball), 'package/package.json'], { encoding: 'utf8' }),
      ) as typeof packed;
      [app, cdkApp] = await Promise.all([project('middleware'), project('full', ['aws-cdk-lib', 'constructs', 'esbuild', ...CLI_PEERS])]);
      console.info(`hookwarden: the package's set-up took\n  ${steps.join('\n  ')}`);
    },
    NPM_LIMIT_MS * 2 + 60_000,
  );

  // Asynchronous: two node_modules (one with aws-cdk-lib) are many files, and a synchronous removal would stall the worker.
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 300_000);

  it('holds compiled ESM and declarations for both entry points, no TypeScript sources or tests, and no install script', () => {
    for (const file of [
      'dist/core/index.js',
      'dist/core/index.d.ts',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/bin/cli.js',
      'bin/hookwarden-cli.mjs',
      'package.json',
      'README.md',
    ]) {
      expect(files, file).toContain(file);
    }
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((file) => /(^|\/)test\//.test(file) || file.includes('.test.'))).toEqual([]);
    const scripts = (packed.scripts ?? {}) as Record<string, string>;
    expect(Object.keys(scripts).filter((name) => /^(pre|post)?install$/.test(name))).toEqual([]);
  });

  it(`installs for the middleware in under ${MIDDLEWARE_INSTALL_LIMIT_MB} MB, without the CDK, CLI or local-server packages`, () => {
    const installed = NOT_FOR_MIDDLEWARE.filter((name) => copiesOf(join(app, 'node_modules'), name).length > 0);
    expect(installed, 'packages a middleware-only install must not get').toEqual([]);
    const mb = sizeMb(join(app, 'node_modules'));
    expect(mb, `node_modules of a middleware-only install: ${mb.toFixed(1)} MB`).toBeLessThan(MIDDLEWARE_INSTALL_LIMIT_MB);
    // The README quotes this figure.
    console.info(`hookwarden: a middleware-only install is ${mb.toFixed(1)} MB of node_modules`);
  });

  it.each(NODES)('(a) imports withHookwarden with import and with require() on Node %s', async (_version, binary) => {
    const esm = await node(
      binary,
      [
        '--input-type=module',
        '-e',
        "import { withHookwarden, standardWebhooks } from 'hookwarden'; process.stdout.write(typeof withHookwarden + ' ' + typeof standardWebhooks.verify + ' ' + typeof standardWebhooks.sign);",
      ],
      app,
    );
    expect(esm).toBe('function function function');
    const cjs = await node(
      binary,
      ['-e', "const { withHookwarden } = require('hookwarden'); process.stdout.write(typeof withHookwarden);"],
      app,
    );
    expect(cjs).toBe('function');
  });

  it('(b) type-checks a consumer under module NodeNext and under moduleResolution Bundler, with skipLibCheck off', async () => {
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(
      join(app, 'src', 'handler.ts'),
      [
        "import { withHookwarden, loadConfig, standardWebhooks, METRIC, ConfigError, type HookwardenConfig, type WebhookHandler } from 'hookwarden';",
        "const accept: WebhookHandler = async (_event, context) => ({ statusCode: 202, body: context.hookwarden.delivery?.deliveryId ?? '' });",
        'export const handler = withHookwarden(accept, { rateLimiter: false, controls: false });',
        'export const config = (): HookwardenConfig => loadConfig({});',
        'export const facts: string[] = [typeof standardWebhooks.verify, METRIC.rejected, ConfigError.name];',
        '',
      ].join('\n'),
    );
    const modes = {
      nodenext: { module: 'NodeNext', moduleResolution: 'NodeNext' },
      bundler: { module: 'ESNext', moduleResolution: 'Bundler' },
    };
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await Promise.all(
      Object.entries(modes).map(async ([mode, options]) => {
        const config = join(app, `tsconfig.${mode}.json`);
        // A consumer brings its own @types/node (the repository's here); everything else resolves from the consumer's node_modules.
        const compilerOptions = {
          ...options,
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        };
        writeFileSync(config, JSON.stringify({ compilerOptions, files: ['src/handler.ts'] }, null, 2));
        await expect(node(process.execPath, [tsc, '-p', config], app), mode).resolves.toBe('');
      }),
    );
  }, 240_000);

  describe('(c) a wrapped handler on a signed API Gateway event against dynalite', () => {
    let store: LocalStore;
    beforeAll(async () => {
      store = await startLocalStore();
      writeFileSync(
        join(app, 'run.mjs'),
        [
          "import { readFileSync } from 'node:fs';",
          "import { withHookwarden } from 'hookwarden';",
          "const event = JSON.parse(readFileSync(process.argv[2], 'utf8'));",
          "const handler = withHookwarden(async (_event, context) => ({ statusCode: 202, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ status: 'accepted', id: context.hookwarden.delivery?.deliveryId }) }));",
          "const context = { awsRequestId: 'consumer-request', functionName: 'consumer' };",
          'const answers = [];',
          'for (const _ of [1, 2]) { const answer = await handler(event, context); answers.push({ statusCode: answer.statusCode, body: JSON.parse(answer.body) }); }',
          'process.stdout.write(`\\nANSWERS ${JSON.stringify(answers)}\\n`);',
          '',
        ].join('\n'),
      );
    });
    afterAll(async () => {
      await store?.close();
    });

    it.each(NODES)('answers 202, then 200 duplicate, on Node %s', async (version, binary) => {
      const id = `msg_pack_${version.replace(/\W/g, '_')}_${Date.now()}`;
      const body = JSON.stringify({ type: 'invoice.paid', id });
      const event = {
        httpMethod: 'POST',
        path: '/prod/webhooks/default',
        resource: '/webhooks/{source}',
        pathParameters: { source: 'default' },
        headers: { 'Content-Type': 'application/json', ...standardWebhooksHeaders(TEST_SECRETS.standardWebhooks, id, new Date(), body) },
        multiValueHeaders: {},
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        stageVariables: null,
        body,
        isBase64Encoded: false,
        requestContext: {
          requestId: `api-${id}`,
          stage: 'prod',
          resourcePath: '/webhooks/{source}',
          httpMethod: 'POST',
          identity: { sourceIp: '198.51.100.7' },
        },
      };
      const eventFile = join(app, `event-${id}.json`);
      writeFileSync(eventFile, JSON.stringify(event));
      const stdout = await node(binary, ['run.mjs', eventFile], app, {
        WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks,
        AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      const line = stdout.split('\n').find((text) => text.startsWith('ANSWERS '));
      expect(line, 'the consumer script printed its answers').toBeDefined();
      expect(JSON.parse(line!.slice('ANSWERS '.length))).toEqual([
        { statusCode: 202, body: { status: 'accepted', id } },
        { statusCode: 200, body: { status: 'duplicate', id } },
      ]);
    });
  });

  it('the command line, without its optional peers, names what to install (exit 2, no stack trace)', async () => {
    const result = await run(process.execPath, [join(app, 'node_modules', '.bin', 'hookwarden'), '--help'], { cwd: app }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect('code' in result ? result.code : 0).toBe(2);
    expect(result.stderr).toContain(`npm install --save-dev ${CLI_PEERS.join(' ')}`);
    expect(result.stderr).not.toContain('    at ');
  });

  it('the command line, with its optional peers, runs the compiled CLI from dist/', async () => {
    expect(files).not.toContain('bin/cli.ts');
    const version = await node(process.execPath, [join(cdkApp, 'node_modules', '.bin', 'hookwarden'), '--version'], cdkApp);
    expect(version.trim()).toBe(packed.version);
  });

  it('(d) synthesizes a consumer CDK app: its own aws-cdk-lib, the installed stack deploying its own handler (bundled by its esbuild, no Docker), one copy of aws-cdk-lib', async () => {
    // The regression guard: aws-cdk-lib, constructs and esbuild are the consumer's (optional peers), never the package's own dependencies.
    const { dependencies = {}, peerDependencies = {}, peerDependenciesMeta = {} } = packed as Record<string, Record<string, unknown>>;
    for (const name of ['aws-cdk-lib', 'constructs', 'esbuild']) {
      expect(Object.keys(dependencies), `${name} is not a dependency`).not.toContain(name);
      expect(Object.keys(peerDependencies), `${name} is a peer dependency`).toContain(name);
      expect(peerDependenciesMeta[name], `${name} is an optional peer`).toEqual({ optional: true });
    }
    // The consumer's own handler, wrapped with the installed package, deployed by the installed
    // package's stack with everything Hookwarden's own function gets. esbuild (the consumer's,
    // as NodejsFunction expects) bundles it and Hookwarden's compiled handlers: no Docker.
    const marker = `consumer-handler-${Date.now()}`;
    writeFileSync(
      join(cdkApp, 'webhook.mjs'),
      [
        "import { withHookwarden } from 'hookwarden';",
        `export const handler = withHookwarden(async () => ({ statusCode: 202, body: ${JSON.stringify(marker)} }));`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(cdkApp, 'app.mjs'),
      [
        "import { App } from 'aws-cdk-lib';",
        "import { HookwardenStack, readSettings } from 'hookwarden/cdk';",
        'const app = new App({ outdir: process.argv[2] });',
        'const { settings, problems } = readSettings((key) => app.node.tryGetContext(key));',
        "if (problems.length > 0) throw new Error(problems.join('\\n'));",
        "new HookwardenStack(app, 'Consumer', { settings, webhookHandler: { entry: 'webhook.mjs' } });",
        'app.synth();',
        '',
      ].join('\n'),
    );
    const out = join(cdkApp, 'cdk.out');
    await node(process.execPath, ['app.mjs', out], cdkApp);
    const template = JSON.parse(readFileSync(join(out, 'Consumer.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const types = Object.values(template.Resources).map((resource) => resource.Type);
    expect(types.filter((type) => type === 'AWS::DynamoDB::GlobalTable')).toHaveLength(3); // deliveries, rate limits, read tokens
    expect(types.filter((type) => type === 'AWS::SecretsManager::Secret')).toHaveLength(1);
    expect(types).toContain('AWS::ApiGateway::RestApi');
    // The webhook function's bundle is the consumer's handler (with the configuration beside it); health is Hookwarden's own.
    const [webhookId, webhook] =
      Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('FunctionsWebhook')) ?? [];
    expect(webhookId, 'a webhook function').toBeDefined();
    const asset = (webhook?.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    const bundle = readdirSync(join(out, `asset.${asset}`));
    expect(bundle).toContain('hookwarden.config.json');
    const code = bundle
      .filter((file) => /\.m?js$/.test(file))
      .map((file) => readFileSync(join(out, `asset.${asset}`, file), 'utf8'))
      .join('\n');
    expect(code).toContain(marker);
    const functions = types.filter((type) => type === 'AWS::Lambda::Function').length;
    expect(functions, 'webhook, health, reader, events and the key-age check, all bundled from the package').toBeGreaterThanOrEqual(5);

    expect(copiesOf(join(cdkApp, 'node_modules'), 'aws-cdk-lib')).toEqual([join(cdkApp, 'node_modules', 'aws-cdk-lib')]);
    expect(copiesOf(join(cdkApp, 'node_modules'), 'constructs')).toEqual([join(cdkApp, 'node_modules', 'constructs')]);
    // npm agrees, and finds the tree valid (every peer satisfied, nothing missing).
    const listed = (await npm(['ls', 'aws-cdk-lib', '--all', '--parseable'], cdkApp)).trim().split('\n');
    expect(listed).toEqual([join(cdkApp, 'node_modules', 'aws-cdk-lib')]);
    await npm(['ls', '--all'], cdkApp);
  }, 120_000);
});
