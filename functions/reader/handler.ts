import { createDeliveriesHandler } from '../../core/reader/routes.js';
import { readerConfiguration, readerDependencies } from '../../core/reader/wiring.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { createTelemetry } from '../../core/telemetry.js';

// Cold start: the configuration (CORS origins, tables, API limits) is validated once; a bad one fails the init.
/** `GET /deliveries`, `GET /deliveries/{source}/{id}`, and the CORS preflights of the deliveries API (`/events` too). */
export const handler = createDeliveriesHandler(
  readerDependencies({ ...readerConfiguration(), telemetry: createTelemetry(), client: createDynamoDbClient() }),
);
