import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientSettings, CONTROL_PLANE_REQUEST_TIMEOUT_MS } from '../../core/aws-client-settings.js';
import { currentKeyAgeSeconds, KEY_AGE_METRIC, type AgedSource } from '../../core/secrets/key-age.js';
import { DIMENSION } from '../../core/telemetry.js';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'hookwarden' });
const metrics = new Metrics();
const client = new SecretsManagerClient(awsClientSettings({ requestTimeoutMs: CONTROL_PLANE_REQUEST_TIMEOUT_MS }));
// Cold start: the manual sources and their secrets, written by the stack into the bundle (the working directory).
const sourcesFile = process.env.HOOKWARDEN_KEY_AGE_SOURCES_FILE;
const sources = sourcesFile ? (JSON.parse(readFileSync(sourcesFile, 'utf8')) as AgedSource[]) : [];

/** Daily: publishes each manual source's current-key age; the stack alarms when it passes the source's `every`. */
export const handler = async (): Promise<void> => {
  const nowSeconds = Math.floor(Date.now() / 1000);
  let failed = 0;
  for (const { source, secretId } of sources) {
    try {
      const age = await currentKeyAgeSeconds(client, secretId, nowSeconds);
      const single = metrics.singleMetric();
      single.addDimension(DIMENSION.source, source);
      single.addMetric(KEY_AGE_METRIC, MetricUnit.Seconds, age);
      single.publishStoredMetrics();
      logger.info('current key age', { source, ageDays: Math.floor(age / 86_400) });
    } catch (error) {
      failed++;
      logger.error('could not read the key age', { source, secretId, error });
    }
  }
  // An error counts as a function error: the rotation alarms watch this function too.
  if (failed > 0) throw new Error(`the key age of ${failed} source(s) could not be read`);
};
