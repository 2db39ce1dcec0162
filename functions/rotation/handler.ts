import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientSettings, CONTROL_PLANE_REQUEST_TIMEOUT_MS } from '../../core/aws-client-settings.js';
import { Problems, secretCacheSecondsOf } from '../../core/config/rules.js';
import { createRotationHandler, type RotatedSource, type RotationEvent } from '../../core/secrets/rotation-function.js';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'hookwarden' });
// Cold start: the sources this function rotates (never a secret value), written by the stack into the bundle (the working directory).
const sourcesFile = process.env.HOOKWARDEN_ROTATION_SOURCES_FILE;
const sources = sourcesFile ? (JSON.parse(readFileSync(sourcesFile, 'utf8')) as RotatedSource[]) : [];
// Read as the webhook function reads it (which refuses to start otherwise): Number() made "5m" NaN, and a NaN cache
// period counted every staged key as ready, so a rotation switched the provider before any function had the key.
const problems = new Problems();
const cacheSeconds = secretCacheSecondsOf(problems, process.env);
if (problems.items.length > 0) throw new Error(`invalid configuration: ${problems.items.join('; ')}`);
const rotate = createRotationHandler({
  client: new SecretsManagerClient(awsClientSettings({ requestTimeoutMs: CONTROL_PLANE_REQUEST_TIMEOUT_MS })),
  sources,
  cacheSeconds,
  ...(process.env.HOOKWARDEN_GITHUB_API_URL ? { githubApiUrl: process.env.HOOKWARDEN_GITHUB_API_URL } : {}),
});

/** Secrets Manager's rotation function for `github` and `shared` sources: createSecret, setSecret, testSecret, finishSecret. */
export const handler = async (event: RotationEvent): Promise<void> => {
  const where = { step: event.Step, secretId: event.SecretId, version: event.ClientRequestToken };
  try {
    const outcome = await rotate(event);
    logger.info(`rotation step ${event.Step}: ${outcome}`, where);
  } catch (error) {
    // The step fails, Secrets Manager retries it and reports RotationFailed: the alarms pick both up.
    logger.error(`rotation step ${event.Step} failed`, { ...where, error });
    throw error;
  }
};
