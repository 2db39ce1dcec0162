import { createWebhookHandler } from '../shared/pipeline';
import { wireDependencies } from '../shared/wiring';

// Cold start: configuration is validated once, before any request is served; a bad one fails the init.
/** `POST /webhooks/{source}` and its CORS preflight. */
export const handler = createWebhookHandler(wireDependencies());
