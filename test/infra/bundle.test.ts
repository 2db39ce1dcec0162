import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { settingsFor, synth } from './helpers';

// One synth with real bundling (local esbuild, no Docker): the shipped artifacts, loaded and run.
describe('bundled handlers', () => {
  let assets: string[];
  beforeAll(() => {
    const { app } = synth(settingsFor(), { bundle: true });
    const outdir = app.synth().directory;
    assets = readdirSync(outdir).filter((name) => name.startsWith('asset.')).map((name) => join(outdir, name));
  }, 120_000);

  it('bundles both functions as minified ESM with source maps', () => {
    const bundles = assets.filter((dir) => existsSync(join(dir, 'index.mjs')));
    expect(bundles).toHaveLength(2);
    for (const dir of bundles) expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
  });

  it('runs the bundled health handler: GET /health answers 200 without AWS', async () => {
    const env = { ...process.env };
    process.env.HOOKWARDEN_CONFIG_JSON = JSON.stringify({ sources: [{ name: 'default', scheme: 'standard-webhooks', secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x' }] });
    process.env.AWS_REGION = 'us-east-1';
    try {
      const bundles = assets.filter((dir) => existsSync(join(dir, 'index.mjs')));
      const modules = await Promise.all(bundles.map((dir) => import(pathToFileURL(join(dir, 'index.mjs')).href) as Promise<{ handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }> }>));
      const event = { httpMethod: 'GET', path: '/health', resource: '/health', headers: {}, multiValueHeaders: {}, body: null, isBase64Encoded: false, pathParameters: null, requestContext: { requestId: 'r1', identity: { sourceIp: '203.0.113.1' } } };
      const context = { awsRequestId: 'a1', functionName: 'health', getRemainingTimeInMillis: () => 5000 };
      const answers = await Promise.all(modules.map((m) => m.handler(event, context)));
      // The health bundle answers 200; the webhook bundle routes /health nowhere: 404 for a missing source.
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 404]);
    } finally {
      process.env = env;
    }
  });
});
