import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/** Options of {@link createDynamoDbClient}. */
export interface DynamoDbClientOptions {
  /** A local endpoint (dynalite); unset in AWS. */
  readonly endpoint?: string;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** @default 3 */
  readonly maxAttempts?: number;
  /** How long to wait for a connection. @default 1000 */
  readonly connectionTimeoutMs?: number;
  /** How long one attempt may take. @default 3000 */
  readonly requestTimeoutMs?: number;
  /**
   * Whether an attempt still unanswered after `requestTimeoutMs` is ended, so the SDK retries it on a
   * fresh connection. Without it the SDK only warns (on the console), and a connection that stays silent
   * is given up after 300 s (the SDK's default socket timeout). @default false
   */
  readonly endSlowAttempts?: boolean;
}

/**
 * The DynamoDB client of the request path: bounded retries and timeouts, so an
 * unreachable store becomes a quick 503 rather than a Lambda timeout.
 */
export const createDynamoDbClient = (options: DynamoDbClientOptions = {}): DynamoDBClient => {
  const config: DynamoDBClientConfig = {
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 1_000,
      requestTimeout: options.requestTimeoutMs ?? 3_000,
      ...(options.endSlowAttempts ? { throwOnRequestTimeout: true } : {}),
    },
  };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    // dynalite accepts any credentials; never pick up a real profile for the local store.
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  return new DynamoDBClient(config);
};
