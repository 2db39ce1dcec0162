import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadConfig, requireSecrets } from '../shared/config';
import { rateLimitsDependencies } from '../shared/containment';
import { createWebhookHandler } from '../shared/pipeline';
import { secretsManagerProviders } from '../shared/secrets/secrets-manager';
import { createDynamoDbClient } from '../shared/stores/dynamodb-client';
import { DynamoDbDeliveryStore } from '../shared/stores/dynamodb-delivery-store';
import { createTelemetry } from '../shared/telemetry';

// Cold start: configuration is validated once, before any request is served; a bad one fails the init.
const config = requireSecrets(loadConfig());
const telemetry = createTelemetry();
const client = createDynamoDbClient();
const store = new DynamoDbDeliveryStore({ client, tableName: config.tables.deliveries });

/** `POST /webhooks/{source}` and its CORS preflight. */
export const handler = createWebhookHandler({
  config,
  store,
  telemetry,
  secretProviders: secretsManagerProviders(new SecretsManagerClient({})),
  ...rateLimitsDependencies(client, config, telemetry),
});
