import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { routeSdkLogs } from '../../core/aws-client-settings.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { run } from '../../cli/program.js';
import { DELIVERIES_TABLE } from '../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { capture } from '../helpers/capture.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { secretsManagerStandIn, type SecretsManagerStandIn } from '../helpers/secrets-manager-stand-in.js';
import { stallingStore, type StallingStore } from '../helpers/stalling-store.js';

// An attempt that gets no answer is ended after the client's request timeout and retried on a fresh connection;
// nothing is printed. Before, @smithy/node-http-handler 4.14 only warned through console.warn when requestTimeout
// passed and kept waiting on the silent connection (300 s, or for ever without a socket timeout). Attempts of
// 300 ms here; a call still pending after 10 s counts as hung.

const HUNG = 10_000;
const hungAfter = (ms: number) => new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms).unref());

describe('every AWS SDK client of the project ends a silent attempt and retries it, without a word on the console', () => {
  let local: LocalStore;
  let stalls: StallingStore;
  let client: DynamoDBClient;
  beforeAll(async () => {
    local = await startLocalStore();
    stalls = await stallingStore(local.endpoint);
    client = createDynamoDbClient({ endpoint: stalls.endpoint, region: 'local', requestTimeoutMs: 300 });
  });
  afterAll(async () => {
    client.destroy();
    await stalls.close();
    await local.close();
  });
  afterEach(() => {
    stalls.release();
    vi.restoreAllMocks();
  });

  it('createDynamoDbClient: a GetItem whose first attempt hangs is answered by the second', async () => {
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    stalls.stall('GetItem', { times: 1 });
    const read = client.send(new GetItemCommand({ TableName: DELIVERIES_TABLE.localName, Key: { pk: { S: 'default#nothing' } } }));
    const result = await Promise.race([read, hungAfter(HUNG)]);
    expect(result).not.toBe('hung');
    expect(stalls.held()).toBe(1);
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });

  it('a Secrets Manager client built with awsClientSettings (the webhook function, rotation, key age, the command line): the same', async () => {
    // Secrets Manager has no local server: a stand-in that answers GetSecretValue, behind the same stalling hop.
    const standIn = await secretsManagerStandIn('{"keys":[]}');
    const { hop } = standIn;
    const sm = standIn.client({ requestTimeoutMs: 300 });
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    try {
      hop.stall('GetSecretValue', { times: 1 });
      const result = await Promise.race([sm.send(new GetSecretValueCommand({ SecretId: 's' })), hungAfter(HUNG)]);
      expect(result).not.toBe('hung');
      expect(result === 'hung' ? undefined : result.SecretString).toBe('{"keys":[]}');
      expect(hop.held()).toBe(1);
      expect(warn).not.toHaveBeenCalled();
      expect(error).not.toHaveBeenCalled();
    } finally {
      await standIn.close();
    }
  });
});

// A client's sockets all in use (50, the SDK's default) and more than twice as many calls queued behind them: the
// SDK's HTTP handler warns. It printed through console.warn (its own logger unset, the client's a no-op); and with
// the attempt timeout ending a call first, its default check (request + connection timeout) never came: 160 calls
// to a Secrets Manager stand-in that holds every one, attempts of 5 s, one attempt each.
describe("the AWS SDK's own lines (its sockets at capacity) never go through console", () => {
  let standIn: SecretsManagerStandIn;
  beforeAll(async () => {
    standIn = await secretsManagerStandIn('{"keys":[]}');
    standIn.hop.stall('GetSecretValue');
  });
  afterAll(() => standIn.close());
  afterEach(() => vi.restoreAllMocks());

  const saturate = async (): Promise<void> => {
    const sm = standIn.client({ requestTimeoutMs: 5_000, maxAttempts: 1 });
    const calls = Array.from({ length: 160 }, () => sm.send(new GetSecretValueCommand({ SecretId: 's' })));
    const settled = await Promise.allSettled(calls);
    expect(settled.every((call) => call.status === 'rejected')).toBe(true);
  };

  it('the functions and the local server: one Powertools warning line', async () => {
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    const lines = await jsonLinesDuring(saturate);
    const sdk = lines.filter((line) => line.origin === 'aws-sdk');
    expect(sdk).toHaveLength(1);
    expect(sdk[0]).toMatchObject({ level: 'WARN', service: 'hookwarden' });
    expect(String(sdk[0]?.message)).toMatch(/socket usage at capacity=50 and \d+ additional requests are enqueued/);
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });

  it('the command line: standard error, standard output untouched (--json stays clean)', async () => {
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    // run() routes the SDK's lines for the whole process: where they went before is put back after.
    const before = routeSdkLogs(() => undefined);
    try {
      await capture(() => run(['node', 'hookwarden', '--version']));
      const { stdout, stderr } = await capture(async () => {
        await saturate();
        return 0;
      });
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^hookwarden: AWS SDK warn: @smithy\/node-http-handler:WARN - socket usage at capacity=50/);
      expect(warn).not.toHaveBeenCalled();
      expect(error).not.toHaveBeenCalled();
    } finally {
      routeSdkLogs(before);
    }
  });
});
