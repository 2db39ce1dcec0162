import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { awsClientSettings, type AwsClientSettingsOptions } from '../aws-client-settings.js';
import { deadlineBound } from '../deadline.js';

/** Options of {@link createDynamoDbClient}. */
export interface DynamoDbClientOptions extends AwsClientSettingsOptions {
  /** A local endpoint (dynalite); unset in AWS. */
  readonly endpoint?: string;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
}

/**
 * The DynamoDB client of the request path: 3 attempts, each ended after 3 s and retried on a fresh connection
 * (core/aws-client-settings.ts), so an unreachable store becomes a quick 503 rather than a Lambda timeout. Every
 * call made under a request's deadline (core/deadline.ts) is aborted when it passes; elsewhere nothing changes.
 */
export const createDynamoDbClient = (options: DynamoDbClientOptions = {}): DynamoDBClient => {
  const config: DynamoDBClientConfig = {
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...awsClientSettings(options),
  };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    // dynalite accepts any credentials; never pick up a real profile for the local store.
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  return deadlineBound(new DynamoDBClient(config));
};
