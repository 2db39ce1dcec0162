import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/program.js';
import { defaultAwsClients } from '../../cli/targets.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { RATE_LIMITS_TABLE, TOKENS_TABLE } from '../../core/stores/tables.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { answerStack, stackClients } from '../helpers/fake-stack.js';
import { emptyDir } from '../helpers/harness.js';

// CloudFormation found the stack in the profile's region, and the tables named in its outputs were then looked for in
// AWS_REGION, or us-east-1 without it: "does not exist here" for a stack in any other region.
describe('--stack: the tables are read in the region CloudFormation found the stack in', () => {
  const cfn = mockClient(CloudFormationClient);
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
    cfn.restore();
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
