import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { signingKey, toKeyDocument } from './key-document.js';
import { parseSecretDocument } from './secrets-manager.js';

import { METRIC } from '../telemetry.js';

/** The metric the daily key-age check publishes per `manual` source (dimensions `service` and `source`). */
export const KEY_AGE_METRIC = METRIC.secretKeyAge;

/**
 * The file in the key-age check's bundle that lists its sources (a JSON array of
 * {@link AgedSource}), named by `HOOKWARDEN_KEY_AGE_SOURCES_FILE`: the list grows
 * with the number of sources, and Lambda allows 4 KB of environment in all.
 */
export const KEY_AGE_SOURCES_FILE = 'key-age-sources.json';

/** One manual source the daily check looks at ({@link KEY_AGE_SOURCES_FILE}, written by the stack). */
export interface AgedSource {
  readonly source: string;
  readonly secretId: string;
}

/**
 * The age of the key a source's provider signs with now, in seconds: from its
 * `createdAt`, else (a document written before keys carried one, or one emptied
 * to stop the source) from the secret version's creation date.
 * @throws MalformedSecretError for a document that is not a key document
 */
export const currentKeyAgeSeconds = async (client: SecretsManagerClient, secretId: string, nowSeconds: number): Promise<number> => {
  const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  // An emptied document (the emergency stop) has no key to age: the version's, so KeyDue still comes, not a daily error.
  const key = signingKey(toKeyDocument(parseSecretDocument(result.SecretString, { allowEmpty: true })), nowSeconds);
  const since = key?.createdAt ?? (result.CreatedDate ? Math.floor(result.CreatedDate.getTime() / 1000) : nowSeconds);
  return Math.max(0, nowSeconds - since);
};

/**
 * The command the on-call runs when a manual source's key is due, as the alarm states it. The CLI looks for the stack
 * in the environment's region: without `region` (the stack's), a shell set to another region found no stack there, or
 * another stack of the same name (the default app names its stack by stage, not region) and rotated that one's secret.
 * @example rotateCommandFor('stripe', 'Hookwarden-prod', 'eu-west-1') // 'AWS_REGION=eu-west-1 hookwarden rotate stripe --stack Hookwarden-prod --secret-env NEW_SECRET'
 */
export const rotateCommandFor = (source: string, stack: string, region?: string): string =>
  `${region ? `AWS_REGION=${region} ` : ''}hookwarden rotate ${source} --stack ${stack} --secret-env NEW_SECRET`;
