import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../cli/targets.js';

/**
 * Makes `cfn` describe `stackName` as a created stack in `region` (its stack id's) with these outputs (key, value), as
 * the CLI's `--stack` reads them.
 */
export const answerStack = (
  cfn: AwsClientStub<CloudFormationClient>,
  stackName: string,
  outputs: readonly (readonly [string, string])[],
  region = 'us-east-1',
): void => {
  cfn.on(DescribeStacksCommand, { StackName: stackName }).resolves({
    Stacks: [
      {
        StackName: stackName,
        StackId: `arn:aws:cloudformation:${region}:123456789012:stack/${stackName}/5f2c0a40-0000-4000-8000-000000000000`,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: outputs.map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
};

/**
 * The AWS clients of a `--stack` command under test: DynamoDB (dynalite) and WAF (test/helpers/fake-waf.ts) as
 * given; CloudFormation and Secrets Manager, which have no local server, as aws-sdk-client-mock stubs them.
 * Without `wafv2`, a plain client: a test that stubs WAFV2Client, or one whose stack has no WAF.
 */
export const stackClients = (clients: { dynamodb: (region?: string) => DynamoDBClient; wafv2?: () => WAFV2Client }): AwsClients => ({
  cloudFormation: () => new CloudFormationClient({ region: 'us-east-1' }),
  dynamodb: clients.dynamodb,
  wafv2: clients.wafv2 ?? (() => new WAFV2Client({ region: 'us-east-1' })),
  secretsManager: () => new SecretsManagerClient({ region: 'us-east-1' }),
});
