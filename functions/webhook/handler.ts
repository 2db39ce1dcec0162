import { createWebhookHandler } from '../../core/pipeline.js';
import { wireDependencies } from '../../core/wiring.js';

// Cold start: configuration is validated once, before any request is served; a bad one fails the init.
/** `POST /webhooks/{source}` and its CORS preflight. */
export const handler = createWebhookHandler(wireDependencies());
