import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** Makes `cfn` describe `stackName` as a created stack with these outputs (key, value), as the CLI's `--stack` reads them. */
export const answerStack = (
  cfn: AwsClientStub<CloudFormationClient>,
  stackName: string,
  outputs: readonly (readonly [string, string])[],
): void => {
  cfn.on(DescribeStacksCommand, { StackName: stackName }).resolves({
    Stacks: [
      {
        StackName: stackName,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: outputs.map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
};
