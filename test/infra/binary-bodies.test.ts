import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toProxyEvent } from '../../local/http-adapter.js';
import { prodSettings, settingsFor, synth } from './helpers.js';

/** The event the local adapter builds from a real HTTP request carrying `body`. */
let port = 0;
let last: APIGatewayProxyEvent | undefined;
const server = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    last = toProxyEvent(req, Buffer.concat(chunks), { resource: '/webhooks/{source}', pathParameters: { source: 'default' } });
    res.end();
  });
});
const send = (body: Buffer, contentType: string): Promise<APIGatewayProxyEvent> =>
  new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/webhooks/default',
        headers: { 'Content-Type': contentType, 'Content-Length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(last as APIGatewayProxyEvent));
      },
    );
    req.on('error', reject);
    req.end(body);
  });

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('request bodies arrive byte-exact', () => {
  it.each([
    ['prod', prodSettings()],
    ['dev', settingsFor()],
  ])('the %s REST API declares every media type binary (*/*), so API Gateway base64-encodes every body', (_stage, settings) => {
    const api = Object.values(
      synth(settings).template().toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).find((r) => r.Type === 'AWS::ApiGateway::RestApi');
    expect(api?.Properties.BinaryMediaTypes).toEqual(['*/*']);
  });

  it.each([
    ['JSON text', Buffer.from('{"type":"invoice.paid","amount":42,"note":"café"}'), 'application/json'],
    ['a form', Buffer.from('payload=%7B%7D&x=1'), 'application/x-www-form-urlencoded'],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x7d]), 'application/octet-stream'],
  ])('the local server hands the function %s as the deployed API does: base64, isBase64Encoded true', async (_name, body, contentType) => {
    const event = await send(body, contentType);
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body as string, 'base64').equals(body)).toBe(true);
  });

  it('hands an empty body as null', async () => {
    const event = await send(Buffer.alloc(0), 'application/json');
    expect(event.body).toBeNull();
  });
});
