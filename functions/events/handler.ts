import { createEventsHandler } from '../../core/reader/events.js';
import { readerConfiguration, readerDependencies } from '../../core/reader/wiring.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { createTelemetry } from '../../core/telemetry.js';

/**
 * `GET /events`: server-sent events through Lambda response streaming
 * (`awslambda.streamifyResponse`, by Middy), behind API Gateway's
 * `ResponseTransferMode.STREAM`.
 */
export const handler = createEventsHandler(
  readerDependencies({ ...readerConfiguration(), telemetry: createTelemetry(), client: createDynamoDbClient() }),
  { streamifyResponse: true },
);
