import { loadConfig } from '../../core/config/index.js';
import { createTelemetry } from '../../core/telemetry.js';
import { createHealthHandler, createHealthStore } from './app.js';

const config = loadConfig();

/** `GET /health` and `GET /health/ready`. */
export const handler = createHealthHandler({ config, store: createHealthStore(config), telemetry: createTelemetry() });
