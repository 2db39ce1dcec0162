import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/program.js';
import { defaultAwsClients, regionOfArn, type AwsClients } from '../../cli/targets.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { RATE_LIMITS_TABLE, TOKENS_TABLE } from '../../core/stores/tables.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { answerStack, stackClients } from '../helpers/fake-stack.js';
import { fakeSecretsManager } from '../helpers/fake-secrets-manager.js';
import { startFakeWaf, type FakeWaf } from '../helpers/fake-waf.js';
import { emptyDir } from '../helpers/harness.js';

// CloudFormation has no local server: aws-sdk-client-mock answers for it, one mock for both groups (answers by stack).
const cfn = mockClient(CloudFormationClient);
afterAll(() => cfn.restore());

// CloudFormation found the stack in the profile's region, and the tables named in its outputs were then looked for in
// AWS_REGION, or us-east-1 without it: "does not exist here" for a stack in any other region.
describe('--stack: the tables are read in the region CloudFormation found the stack in', () => {
  const regions: Array<string | undefined> = [];
  let local: LocalStore;

  beforeAll(async () => {
    local = await startLocalStore();
    answerStack(
      cfn,
      'Dev-Webhooks',
      [
        [outputKey('rateLimitsTable'), RATE_LIMITS_TABLE.localName],
        [outputKey('tokensTable'), TOKENS_TABLE.localName],
        [outputKey('webhookUrl', 'default'), 'https://x/dev/webhooks/default'],
      ],
      'eu-west-1',
    );
  });
  afterAll(async () => {
    await local.close();
  });

  const aws = stackClients({
    dynamodb: (region) => {
      regions.push(region);
      return createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
    },
  });

  it.each([
    [['block', '203.0.113.7', '--for', '1h', '--reason', 'scanner']],
    [['disable', 'default', '--reason', 'incident']],
    [['token', 'list']],
  ])('%j asks for its DynamoDB client in the stack region', async (args) => {
    regions.length = 0;
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(
        await run(['node', 'hookwarden', ...args, '--stack', 'Dev-Webhooks'], { env: {}, cwd: emptyDir(), dataDir: emptyDir() }, aws),
      ).toBe(0);
    } finally {
      quiet.mockRestore();
    }
    expect(regions).toEqual(['eu-west-1']);
  });

  it('the default client is made in that region, whatever AWS_REGION says', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    try {
      const client = defaultAwsClients.dynamodb('eu-west-1');
      expect(await client.config.region()).toBe('eu-west-1');
      client.destroy();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

// The CloudFormation, WAF and Secrets Manager clients were the environment's region's whatever they were sent: a stack
// given by its ARN, its blocked-address sets and its secrets were looked for there, and "do not exist" answered for a
// stack of another region. Each is now asked for in the region its ARN names.
describe('--stack: each AWS client in the region of the ARN it is sent', () => {
  const STACK_ARN = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Dev-Webhooks/5f2c0a40-0000-4000-8000-000000000000';
  const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:Dev-Webhooks/default/keys-AbCdEf';
  let local: LocalStore;
  let waf: FakeWaf;
  let sm: ReturnType<typeof fakeSecretsManager>;
  const asked: string[] = [];

  beforeAll(async () => {
    local = await startLocalStore();
    waf = await startFakeWaf();
    const ipv4Set = waf.addSet('FirewallBlockedIpv4-abc', '1111-2222').replace(':us-east-1:', ':ap-southeast-2:');
    answerStack(
      cfn,
      STACK_ARN,
      [
        [outputKey('rateLimitsTable'), RATE_LIMITS_TABLE.localName],
        [outputKey('webhookUrl', 'default'), 'https://x/dev/webhooks/default'],
        [outputKey('blockedIpv4Set'), ipv4Set],
        [outputKey('secretArn', 'default'), SECRET_ARN],
      ],
      'eu-west-1',
    );
    sm = fakeSecretsManager(SECRET_ARN, JSON.stringify({ keys: [{ secret: 'current-key-of-the-source' }] }));
  });
  afterAll(async () => {
    sm.mock.restore();
    await waf.close();
    await local.close();
  });

  const aws: AwsClients = {
    cloudFormation: (region) => (asked.push(`cloudformation ${region}`), new CloudFormationClient({ region: 'us-east-1' })),
    dynamodb: (region) => (asked.push(`dynamodb ${region}`), createDynamoDbClient({ endpoint: local.endpoint, region: 'local' })),
    wafv2: (region) => (asked.push(`wafv2 ${region}`), waf.client()),
    secretsManager: (region) => (asked.push(`secretsmanager ${region}`), sm.client),
  };

  it.each([
    [
      ['block', '203.0.113.7', '--for', '1h', '--reason', 'scanner'],
      ['cloudformation eu-west-1', 'dynamodb eu-west-1', 'wafv2 ap-southeast-2'],
    ],
    [
      ['keys', 'default'],
      ['cloudformation eu-west-1', 'secretsmanager eu-west-1'],
    ],
  ])('%j', async (args, expected) => {
    asked.length = 0;
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await run(['node', 'hookwarden', ...args, '--stack', STACK_ARN], { env: {}, cwd: emptyDir(), dataDir: emptyDir() }, aws)).toBe(
        0,
      );
    } finally {
      quiet.mockRestore();
    }
    expect(asked).toEqual(expected);
  });

  it('reads the region of an ARN, and none from a name or a global ARN', () => {
    expect(regionOfArn(SECRET_ARN)).toBe('eu-west-1');
    expect(regionOfArn('arn:aws-us-gov:wafv2:us-gov-west-1:1:regional/ipset/a/b')).toBe('us-gov-west-1');
    expect(regionOfArn('arn:aws:iam::123456789012:role/x')).toBeUndefined();
    expect(regionOfArn('Hookwarden-prod')).toBeUndefined();
  });
});
