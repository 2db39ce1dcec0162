import {
  createTelemetry,
  DynamoDbDeliveryStore,
  environmentSecretProviders,
  loadConfig,
  type PipelineDependencies,
} from '../../core/index.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { emptyDir } from './harness.js';

/**
 * What a chain composed by hand is given: one source (`default`, production mode) signed with `secret`, its
 * deliveries in a fresh embedded store, telemetry, no rate limiter. `local` is closed by the caller.
 */
export const chainDependencies = async (secret: string): Promise<{ deps: PipelineDependencies; local: LocalStore }> => {
  const local = await startLocalStore();
  const config = loadConfig({ WEBHOOK_SECRET: secret, NODE_ENV: 'production' }, emptyDir());
  const deps: PipelineDependencies = {
    config,
    store: new DynamoDbDeliveryStore({ client: local.client, tableName: config.tables.deliveries }),
    telemetry: createTelemetry(),
    secretProviders: environmentSecretProviders,
    rateLimiter: false,
  };
  return { deps, local };
};
