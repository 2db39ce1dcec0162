import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientSettings, type AwsClientSettingsOptions } from '../../core/aws-client-settings.js';
import { stallingStore, type StallingStore } from './stalling-store.js';

/** What {@link secretsManagerStandIn} gives a test. */
export interface SecretsManagerStandIn {
  /** The hop in front of the stand-in: `stall('GetSecretValue', { when: (input) => input.SecretId === … })`. */
  readonly hop: StallingStore;
  /** GetSecretValue requests the stand-in answered (held ones never reach it). */
  readonly answered: () => number;
  /** A real SDK client built with the project's settings ({@link awsClientSettings}), pointed at the hop. */
  client(options?: AwsClientSettingsOptions): SecretsManagerClient;
  close(): Promise<void>;
}

/**
 * Secrets Manager has no local server: a stand-in on a loopback port answers every GetSecretValue with
 * `secretString` (whatever the secret id), behind a real HTTP hop ({@link stallingStore}) that can hold chosen
 * requests with no byte of answer, as a Secrets Manager or a network that hangs. Real SDK clients reach it over
 * HTTP, so their attempt timeouts, retries and abort signals act as on AWS.
 */
export const secretsManagerStandIn = async (secretString: string): Promise<SecretsManagerStandIn> => {
  let answered = 0;
  const clients: SecretsManagerClient[] = [];
  const standIn = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      answered += 1;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ ARN: 'arn:aws:secretsmanager:local:000000000000:secret:s', Name: 's', SecretString: secretString }));
    });
  });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  const hop = await stallingStore(`http://127.0.0.1:${(standIn.address() as AddressInfo).port}`);
  return {
    hop,
    answered: () => answered,
    client: (options = {}) => {
      const client = new SecretsManagerClient({
        ...awsClientSettings(options),
        endpoint: hop.endpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const client of clients) client.destroy();
      await hop.close();
      standIn.closeAllConnections();
      await new Promise<void>((resolve) => standIn.close(() => resolve()));
    },
  };
};
