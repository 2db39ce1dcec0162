import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { prodSettings, synth } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Answer = { statusCode: number; body: string };

/** The Node.js 24 binary of the exact-pinned `node` package: the runtime the functions ship to (nodejs24.x). */
const NODE_24 = join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
const DRIVER = join(import.meta.dirname, 'lambda-driver.mjs');
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

/**
 * Secrets Manager has no local server: a loopback stand-in answers GetSecretValue (JSON
 * protocol) for the names the bundled configuration uses, and records what was asked.
 */
const secretsManager = (documents: Record<string, string>) => {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const { SecretId } = JSON.parse(text) as { SecretId: string };
      asked.push(SecretId);
      const document = req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue' ? documents[SecretId] : undefined;
      res.writeHead(document ? 200 : 400, { 'Content-Type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          document
            ? {
                ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SecretId}-AbCdEf`,
                Name: SecretId,
                SecretString: document,
                VersionId: 'v1',
                VersionStages: ['AWSCURRENT'],
              }
            : { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
        ),
      );
    });
  });
  return { server, asked };
};

describe('the bundles `cdk synth` produces, run on Node.js 24 against dynalite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookwarden-node24-'));
  let bundle = '';
  let environment: Record<string, string> = {};
  let store: LocalStore;
  const secrets = secretsManager({ 'Hookwarden-prod/default/keys': JSON.stringify({ keys: [{ secret: SECRET }] }) });

  /** The prod stack's resources, synthesized with bundling into `outdir`. */
  const resourcesIn = (outdir: string): Record<string, Resource> => {
    const { app, stack } = synth(prodSettings(), { bundle: true, outdir });
    return app.synth().getStackByName(stack.stackName).template.Resources as Record<string, Resource>;
  };
  /** Each function's logical id and code key (the asset's hash). */
  const functionCode = (resources: Record<string, Resource>): Array<[string, string]> =>
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id, r]): [string, string] => [id, (r.Properties.Code as { S3Key: string }).S3Key]);
  let code: Array<[string, string]> = [];

  beforeAll(async () => {
    const resources = resourcesIn(join(dir, 'cdk.out'));
    code = functionCode(resources);
    const [, fn] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('FunctionsWebhook')) as [
      string,
      Resource,
    ];
    bundle = join(dir, 'cdk.out', `asset.${(fn.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '')}`);
    // The template's environment, as Lambda hands it over: a table reference becomes that table's name (dynalite's here).
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    environment = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => {
        if (typeof value === 'string') return [name, value];
        const table = TABLES.find((t) => t.tableNameEnv === name);
        const ref = (value as { Ref?: string }).Ref;
        if (!table || !ref || resources[ref]?.Type !== 'AWS::DynamoDB::GlobalTable')
          throw new Error(`${name}: unexpected value ${JSON.stringify(value)}`);
        return [name, table.localName];
      }),
    );
    store = await startLocalStore();
    await new Promise<void>((resolve) => secrets.server.listen(0, '127.0.0.1', resolve));
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await new Promise<void>((resolve) => (secrets.server as Server).close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * One cold start of the bundled webhook function on Node 24, invoked with each event in turn.
   * Asynchronous: dynalite and the Secrets Manager stand-in answer from this process.
   */
  const invoke = async (
    events: unknown[],
    endpoints: { dynamodb: string },
  ): Promise<{ node: string; answers: Answer[]; stderr: string }> => {
    const eventsFile = join(dir, `events-${randomBytes(4).toString('hex')}.json`);
    const answersFile = `${eventsFile}.answers`;
    writeFileSync(eventsFile, JSON.stringify(events));
    const status = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        NODE_24,
        [DRIVER, join(bundle, 'index.mjs'), eventsFile, answersFile],
        {
          cwd: bundle,
          env: {
            ...environment,
            PATH: process.env.PATH,
            AWS_REGION: 'us-east-1',
            AWS_LAMBDA_FUNCTION_NAME: 'Hookwarden-prod-FunctionsWebhook',
            AWS_ACCESS_KEY_ID: 'local',
            AWS_SECRET_ACCESS_KEY: 'local',
            AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
            AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secrets.server.address() as AddressInfo).port}`,
          },
          encoding: 'utf8',
          timeout: 30_000,
        },
        (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
      );
    });
    expect(status.code, status.stderr).toBe(0);
    return { ...(JSON.parse(readFileSync(answersFile, 'utf8')) as { node: string; answers: Answer[] }), stderr: status.stderr };
  };

  const delivery = (id: string, secret = SECRET) => {
    const body = JSON.stringify({ type: 'invoice.paid', data: { id } });
    const timestamp = new Date();
    const signature = new Webhook(secret).sign(id, timestamp, body);
    return {
      httpMethod: 'POST',
      path: '/prod/webhooks/default',
      resource: '/webhooks/{source}',
      pathParameters: { source: 'default' },
      headers: {
        'Content-Type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      // The API declares */* binary: every body arrives base64.
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
      requestContext: {
        requestId: `api-${id}`,
        stage: 'prod',
        resourcePath: '/webhooks/{source}',
        httpMethod: 'POST',
        identity: { sourceIp: '203.0.113.9' },
      },
    };
  };

  it("accepts a signed delivery (202), refuses a forged one (401), answers a duplicate 200, with the template's environment and bundled configuration", async () => {
    const signed = delivery('msg_node24_1');
    const forged = delivery('msg_node24_2', `whsec_${randomBytes(24).toString('base64')}`);
    const { node, answers } = await invoke([signed, forged, signed], { dynamodb: store.endpoint });
    expect(node).toMatch(/^v24\./);
    expect(answers.map((a) => a.statusCode)).toEqual([202, 401, 200]);
    expect(JSON.parse(answers[1]?.body ?? '{}')).toMatchObject({ error: { code: 'signature_invalid' } });
    // The secret was asked for by the name the bundled configuration holds.
    expect(secrets.asked).toContain('Hookwarden-prod/default/keys');
  });

  it('answers 503 when the store is unreachable, so the sender retries, and logs a stack trace that names the TypeScript sources', async () => {
    const { answers, stderr } = await invoke([delivery('msg_node24_3')], { dynamodb: 'http://127.0.0.1:9' });
    expect(answers.map((a) => a.statusCode)).toEqual([503]);
    // The template's NODE_OPTIONS (--enable-source-maps) and the bundle's map: the frames point at the sources, not at index.mjs.
    const failed = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { message?: string; error?: { stack?: string } })
      .find((entry) => entry.message === 'webhook failed');
    expect(failed?.error?.stack).toMatch(/\n {4}at .*core\/stores\/dynamodb-errors\.ts:\d+:\d+\)/);
    expect(failed?.error?.stack).not.toContain('index.mjs');
  });

  it("ships a source map of mappings only: Node parses it at every cold start, and stack traces need no copy of the sources' text", () => {
    const map = JSON.parse(readFileSync(join(bundle, 'index.mjs.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sources.some((source) => source.endsWith('core/pipeline.ts'))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
  });

  it('builds the same assets wherever the cloud assembly is written: no spurious update from a synth in another directory', () => {
    expect(code.length).toBeGreaterThan(3);
    expect(functionCode(resourcesIn(join(dir, 'elsewhere', 'deeper', 'cdk.out')))).toEqual(code);
  });

  it('names its sources relative to the project, not to the cloud assembly, which this synth put outside the project', () => {
    const map = JSON.parse(readFileSync(join(bundle, 'index.mjs.map'), 'utf8')) as { sources: string[]; sourceRoot?: string };
    expect(map.sources).toContain('core/pipeline.ts');
    // Relative to the assembly they climbed out of it and into the deployer's directories (../../../work/…/core/…). The
    // packages' sources are wherever node_modules really is (above the project in a monorepo, or behind a link).
    expect(map.sources.filter((source) => source.endsWith('.ts') && !/^(core|functions)\//.test(source))).toEqual([]);
    expect(map.sourceRoot).toBeUndefined();
  });
});
