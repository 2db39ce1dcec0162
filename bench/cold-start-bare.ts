// The cold-start baseline: a bare Middy handler with Powertools Logger and Metrics and a DynamoDB
// client, bundled exactly as the CDK bundles Hookwarden's webhook function (bench/cold-start.ts).
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';

const logger = new Logger();
const metrics = new Metrics({ namespace: 'Bare' });
const client = new DynamoDBClient({});

/** Stores the body with one conditional PutItem and answers 202. */
export const handler = middy(async (event: { body: string | null }) => {
  await client.send(
    new PutItemCommand({
      TableName: 'deliveries',
      Item: { pk: { S: 'id' }, body: { S: event.body ?? '' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  logger.info('stored');
  metrics.addMetric('Stored', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return { statusCode: 202, body: '' };
});
