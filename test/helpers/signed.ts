import { Webhook } from 'standardwebhooks';
import { TEST_SECRETS } from './secrets.js';

/** The three Standard Webhooks headers. */
export type StandardWebhooksHeaders = { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };

/** One delivery as a provider sends it: its id, body, signing time and headers. */
export interface SignedDelivery {
  readonly id: string;
  readonly body: string;
  readonly at: Date;
  readonly headers: StandardWebhooksHeaders;
}

/**
 * The Standard Webhooks headers for one delivery, signed with the
 * specification's own library (`standardwebhooks`), never with our code.
 */
export const standardWebhooksHeaders = (secret: string, id: string, at: Date, body: string): StandardWebhooksHeaders => ({
  'webhook-id': id,
  'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
  'webhook-signature': new Webhook(secret).sign(id, at, body),
});

/** Options of {@link standardWebhooksSender}. */
export interface SenderOptions {
  /** Starts every delivery id, so a failing test names its file. */
  readonly prefix: string;
  /** @default TEST_SECRETS.standardWebhooks */
  readonly secret?: string;
  /** The `type` of each body. @default `${prefix}.test` */
  readonly type?: string;
  /** The sender's clock, epoch milliseconds (a test's fake clock). @default Date.now */
  readonly now?: () => number;
}

/** What to change in the next delivery: break exactly one thing. */
export interface DeliveryOverrides {
  readonly id?: string;
  readonly body?: string;
  readonly at?: Date;
}

/**
 * A Standard Webhooks sender for tests: each call signs a fresh delivery (new
 * id, new body, signed now) unless told otherwise.
 * @example const signed = standardWebhooksSender({ prefix: 'msg_net' }); const d = signed();
 */
export const standardWebhooksSender = (options: SenderOptions) => {
  const secret = options.secret ?? TEST_SECRETS.standardWebhooks;
  const now = options.now ?? Date.now;
  let n = 0;
  return (overrides: DeliveryOverrides = {}): SignedDelivery => {
    n += 1;
    const id = overrides.id ?? `${options.prefix}_${Date.now()}_${n}`;
    const at = overrides.at ?? new Date(now());
    const body = overrides.body ?? JSON.stringify({ type: options.type ?? `${options.prefix}.test`, n });
    return { id, body, at, headers: standardWebhooksHeaders(secret, id, at, body) };
  };
};
