import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HookwardenConfig } from './config';
import { ControlsCache } from './stores/controls-cache';
import { DynamoDbControlsStore } from './stores/controls-store';
import { DynamoDbRateLimiter } from './stores/dynamodb-rate-limiter';
import type { Telemetry } from './telemetry';

/**
 * The rate limiter and the containment cache on the rate-limits table, as the
 * Lambda handler and the local server both wire them.
 */
export const rateLimitsDependencies = (client: DynamoDBClient, config: HookwardenConfig, telemetry: Telemetry, options: { readonly refreshMs?: number } = {}) => ({
  rateLimiter: new DynamoDbRateLimiter({ client, tableName: config.tables.rateLimits }),
  controls: new ControlsCache({
    store: new DynamoDbControlsStore({ client, tableName: config.tables.rateLimits }),
    ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
    onRefreshError: (error) => telemetry.logger.error('could not refresh the blocklist; keeping the last one', { error }),
  }),
});
