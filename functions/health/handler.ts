import { loadConfig } from '../shared/config';
import { createDynamoDbClient } from '../shared/stores/dynamodb-client';
import { DynamoDbDeliveryStore } from '../shared/stores/dynamodb-delivery-store';
import { createTelemetry } from '../shared/telemetry';
import { createHealthHandler } from './app';

const config = loadConfig();
const store = new DynamoDbDeliveryStore({ client: createDynamoDbClient({ maxAttempts: 1 }), tableName: config.tables.deliveries });

/** `GET /health` and `GET /health/ready`. */
export const handler = createHealthHandler({ config, store, telemetry: createTelemetry() });
