import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE, RATE_LIMITS_TABLE, TOKENS_TABLE } from '../../core/stores/tables.js';
import { DynamoDbTokenStore, generateToken } from '../../core/stores/token-store.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { readerGet } from '../helpers/proxy-event.js';
import { claimStored } from '../helpers/stored-delivery.js';
import { prodSettings, synth } from './helpers.js';

type LambdaResource = { Type: string; Properties: { Code: { S3Key: string } } };
type StreamHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<void>;
type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; headers?: Record<string, string>; body: string }>;

/** A Lambda response stream as the runtime gives it: the metadata prelude, then the body bytes. */
class ResponseStream extends Writable {
  metadata: { statusCode?: number; headers?: Record<string, string> } = {};
  body = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.body += chunk.toString('utf8');
    done();
  }
}

const ORIGIN = 'https://app.example.com';
const event = (path: string, headers: Record<string, string>) => readerGet(path, headers, 'api-1');
const context = { awsRequestId: 'a1', functionName: 'fn', getRemainingTimeInMillis: () => 900_000 };

// The shipped reader and events bundles, loaded as the Lambda runtime loads them (a stand-in for its
// `awslambda` global), against dynalite: the streaming path of the deployed function, end to end.
describe('the bundled reader and events handlers', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'hookwarden-reader-bundle-'));
  const saved = { ...process.env };
  const bundles = { Reader: '', Events: '' };
  let local: LocalStore;
  let token: string;

  beforeAll(async () => {
    const { app, stack } = synth(prodSettings(), { bundle: true, outdir });
    const resources = app.synth().getStackByName(stack.stackName).template.Resources as Record<string, LambdaResource>;
    for (const name of ['Reader', 'Events'] as const) {
      const [, fn] = Object.entries(resources).find(
        ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(`DeliveriesApi${name}`),
      ) as [string, LambdaResource];
      bundles[name] = join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
    }
    local = await startLocalStore();
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
      NODE_ENV: 'production',
      DEBUG: 'false',
      CORS_ORIGINS: ORIGIN,
      [DELIVERIES_TABLE.tableNameEnv]: DELIVERIES_TABLE.localName,
      [RATE_LIMITS_TABLE.tableNameEnv]: RATE_LIMITS_TABLE.localName,
      [TOKENS_TABLE.tableNameEnv]: TOKENS_TABLE.localName,
      HOOKWARDEN_STREAM_MAX_SECONDS: '3',
      HOOKWARDEN_STREAM_SETTLE_MS: '100',
    });
    delete process.env.HOOKWARDEN_CONFIG_JSON;
    delete process.env.HOOKWARDEN_CONFIG;
    (globalThis as Record<string, unknown>).awslambda = {
      streamifyResponse: (fn: unknown) => fn,
      HttpResponseStream: { from: (stream: ResponseStream, metadata: ResponseStream['metadata']) => Object.assign(stream, { metadata }) },
    };
    const created = generateToken();
    const now = Math.floor(Date.now() / 1000);
    await new DynamoDbTokenStore({ client: local.client, tableName: TOKENS_TABLE.localName }).create(
      { id: created.id, name: 'bundle', sources: [], createdAt: now, expiresAt: now + 600 },
      created.hash,
    );
    token = created.token;
  }, 180_000);

  afterAll(async () => {
    process.env = saved;
    delete (globalThis as Record<string, unknown>).awslambda;
    await local?.close();
    rmSync(outdir, { recursive: true, force: true });
  });

  it('the events handler refuses a foreign Origin with a plain 403 origin_denied: no event-stream metadata, no event byte', async () => {
    const { handler } = (await import(pathToFileURL(bundles.Events).href)) as { handler: StreamHandler };
    const stream = new ResponseStream();
    await handler(event('/events', { Authorization: `Bearer ${token}`, Origin: 'https://evil.example' }), stream, context);
    expect(stream.metadata.statusCode).toBe(403);
    expect(JSON.stringify(stream.metadata.headers)).not.toContain('text/event-stream');
    expect(JSON.parse(stream.body).error.code).toBe('origin_denied');
  });

  it('the events handler streams a stored delivery through Lambda response streaming, then ends by itself', async () => {
    const { handler } = (await import(pathToFileURL(bundles.Events).href)) as { handler: StreamHandler };
    const stream = new ResponseStream();
    const running = handler(event('/events', { Authorization: `Bearer ${token}`, Origin: ORIGIN }), stream, context);
    // Stored once the stream has opened (its first lines written): one stored before would lie behind the position a
    // new stream starts from, and a loaded machine can take longer than any fixed wait to open it.
    for (let waited = 0; !stream.body.startsWith('retry: ') && waited < 20_000; waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await claimStored(
      new DynamoDbDeliveryStore({ client: local.client, tableName: DELIVERIES_TABLE.localName }),
      'msg_bundle_1',
      '203.0.113.1',
    );
    await running;
    expect(stream.metadata).toMatchObject({
      statusCode: 200,
      headers: expect.objectContaining({ 'Content-Type': 'text/event-stream', 'Access-Control-Allow-Origin': ORIGIN, Vary: 'Origin' }),
    });
    expect(stream.body).toMatch(/^retry: 1000\nid: [A-Za-z0-9_-]+\n\n/);
    expect(stream.body).toContain('event: delivery\nid: ');
    expect(stream.body).toContain('"id":"msg_bundle_1"');
    expect(stream.body, stream.body).toMatch(/reconnect with Last-Event-ID to go on\n\n$/);
  });

  it('the reader handler answers 401 token_missing without a token', async () => {
    const { handler } = (await import(pathToFileURL(bundles.Reader).href)) as { handler: Handler };
    const answer = await handler(event('/deliveries', {}), context);
    expect(answer.statusCode).toBe(401);
    expect(JSON.parse(answer.body).error.code).toBe('token_missing');
  });
});
