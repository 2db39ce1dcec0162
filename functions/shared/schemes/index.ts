import { github } from './github';
import { createHmacScheme } from './hmac';
import { shopify } from './shopify';
import { slack } from './slack';
import { standardWebhooks } from './standard-webhooks';
import { stripe } from './stripe';
import type { HmacSchemeOptions, SignatureScheme } from './types';

export type * from './types';
export { createHmacScheme, github, shopify, slack, standardWebhooks, stripe };

const PRESETS: ReadonlyMap<string, SignatureScheme> = new Map([
  ['standard-webhooks', standardWebhooks],
  ['github', github],
  ['stripe', stripe],
  ['slack', slack],
  ['shopify', shopify],
]);

/** Names accepted by `WEBHOOK_SCHEME` and a source's `scheme`. */
export const PRESET_NAMES: readonly string[] = [...PRESETS.keys(), 'hmac'];

/**
 * The scheme for a name; `hmac` is built from its options.
 * @throws Error with a configuration-style message for an unknown name or bad hmac options
 */
export const resolveScheme = (name: string, hmac?: HmacSchemeOptions): SignatureScheme => {
  if (name === 'hmac') {
    if (!hmac) throw new Error('scheme "hmac" needs hmac options: header is required (config "hmac" or WEBHOOK_HMAC_HEADER)');
    return createHmacScheme(hmac);
  }
  const preset = PRESETS.get(name);
  if (!preset) throw new Error(`unknown scheme "${name}" (one of ${PRESET_NAMES.join(', ')})`);
  return preset;
};
