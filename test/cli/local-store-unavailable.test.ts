import { writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/program.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

// The commands without --stack, through a running server's store (its server.json names the endpoint).
// That endpoint is a loopback proxy to dynalite that answers the operations a test names as DynamoDB
// answers a throttled table (HTTP 400 ProvisionedThroughputExceededException), and passes the rest on.
describe('locally, a throttled table is named: not "the delivery store"', () => {
  let local: LocalStore;
  let proxy: Server;
  const throttled = new Set<string>();
  const dataDir = emptyDir();
  const env = { HOOKWARDEN_DATA_DIR: dataDir, WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks };

  beforeAll(async () => {
    local = await startLocalStore();
    const store = new URL(local.endpoint);
    proxy = createServer((req, res) => {
      const operation = String(req.headers['x-amz-target']).split('.')[1] ?? '';
      if (throttled.has(operation)) {
        req.resume();
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            message: 'The level of configured provisioned throughput for the table was exceeded.',
          }),
        );
        return;
      }
      const onward = httpRequest(
        { host: store.hostname, port: store.port, path: req.url, method: req.method, headers: { ...req.headers, host: store.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(onward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const dynamoEndpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    // A running server as the CLI finds one: its pid alive (this process) and its store's endpoint.
    writeFileSync(join(dataDir, 'server.json'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:9', dynamoEndpoint }));
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await local.close();
  });
  beforeEach(() => throttled.clear());

  const cli = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    try {
      return { code: await run(['node', 'hookwarden', ...args], { env, cwd: emptyDir(), dataDir }), stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  };

  it.each([
    [['block', '203.0.113.7', '--for', '1h'], 'UpdateItem'],
    [['blocks'], 'GetItem'],
    [['disable', 'default'], 'UpdateItem'],
  ])('%j with %s throttled on the rate-limits table: names that table, as with --stack', async (args, operation) => {
    throttled.add(operation);
    const { code, stderr } = await cli(args);
    expect(code).toBe(1);
    expect(stderr).toBe(
      'hookwarden: the table hookwarden-rate-limits is throttling or did not answer (The level of configured provisioned throughput for the table was exceeded.): a change this command makes may not have been made; the same command is safe to run again\n',
    );
  });

  it('blocks --json with the table throttled: a document naming the table in unread, blocks not known; exit 1', async () => {
    throttled.add('GetItem');
    const { code, stdout, stderr } = await cli(['blocks', '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      where: `the local store in ${dataDir}`,
      blocks: null,
      disabledSources: null,
      unread: [
        {
          table: 'hookwarden-rate-limits',
          reason: 'the table is throttling or did not answer (The level of configured provisioned throughput for the table was exceeded.)',
        },
      ],
    });
    expect(stderr).toBe('');
  });

  it('token list with the tokens table throttled: names that table, as the containment commands do', async () => {
    throttled.add('Scan');
    const { code, stderr } = await cli(['token', 'list']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^hookwarden: the table hookwarden-tokens is throttling or did not answer \(The level of configured/);
    expect(stderr).not.toMatch(/delivery store/);
  });

  it('the same commands answer once the table does (the proxy passes them on)', async () => {
    expect((await cli(['blocks'])).code).toBe(0);
  });
});
