import { loadConfig } from '../../core/config/index.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { createTelemetry } from '../../core/telemetry.js';
import { createHealthHandler } from './app.js';

const config = loadConfig();
const store = new DynamoDbDeliveryStore({ client: createDynamoDbClient({ maxAttempts: 1 }), tableName: config.tables.deliveries });

/** `GET /health` and `GET /health/ready`. */
export const handler = createHealthHandler({ config, store, telemetry: createTelemetry() });
