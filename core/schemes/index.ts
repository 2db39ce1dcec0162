import { github } from './github.js';
import { createHmacScheme } from './hmac.js';
import { shopify } from './shopify.js';
import { slack } from './slack.js';
import { standardWebhooks } from './standard-webhooks.js';
import { stripe } from './stripe.js';
import type { HeaderMap } from '../headers.js';
import type { HmacSchemeOptions, RejectedDelivery, SignatureScheme } from './types.js';

export type * from './types.js';
export { createHmacScheme, github, shopify, slack, standardWebhooks, stripe };

/** The fixed presets: stateless singletons, shared by every source that names them. */
const PRESETS: ReadonlyMap<string, SignatureScheme> = new Map([
  ['standard-webhooks', standardWebhooks],
  ['github', github],
  ['stripe', stripe],
  ['slack', slack],
  ['shopify', shopify],
]);

/**
 * The preset a request that `own` refused seems to be signed for, and the header that says so: one only that
 * preset's signature travels in, when the request carries none of `own`'s. A source configured with the wrong
 * scheme (`WEBHOOK_SCHEME` left at its default for GitHub) otherwise reads as "missing webhook-signature".
 */
export const signedForAnotherPreset = (headers: HeaderMap, own: SignatureScheme): { scheme: string; header: string } | undefined => {
  if (own.signatureHeaders?.some((name) => headers.has(name))) return undefined;
  for (const preset of PRESETS.values()) {
    if (preset.name === own.name) continue;
    const header = preset.signatureHeaders?.find((name) => headers.has(name));
    if (header !== undefined) return { scheme: preset.name, header };
  }
  return undefined;
};

/** A refusal's reason for the log and a development answer, naming {@link signedForAnotherPreset}'s scheme where there is one. */
export const refusalReason = (refused: RejectedDelivery, headers: HeaderMap, own: SignatureScheme): string => {
  const other = refused.code === 'signature_invalid' ? signedForAnotherPreset(headers, own) : undefined;
  return other
    ? `${refused.reason}; the request carries ${other.header}, as ${other.scheme} signs: is the source's scheme ${other.scheme}?`
    : refused.reason;
};

/** Names accepted by `WEBHOOK_SCHEME` and a source's `scheme`; `hmac` is the configurable one. */
export const PRESET_NAMES: readonly string[] = [...PRESETS.keys(), 'hmac'];

/**
 * The scheme for a configured name. `hmac` is built from its options (validated
 * and compiled here, at cold start); the others ignore `hmac`.
 * @throws Error with a configuration-style message for an unknown name or
 * missing or invalid hmac options (it never contains a secret)
 * @example resolveScheme('hmac', { header: 'X-Signature', prefix: 'sha256=' })
 */
export const resolveScheme = (name: string, hmac?: HmacSchemeOptions): SignatureScheme => {
  if (name === 'hmac') {
    if (hmac === undefined || hmac === null)
      throw new Error('scheme "hmac" needs hmac options: header is required (config "hmac", or WEBHOOK_HMAC_HEADER)');
    return createHmacScheme(hmac);
  }
  const preset = PRESETS.get(name);
  if (!preset) throw new Error(`unknown scheme ${JSON.stringify(name)} (one of ${PRESET_NAMES.join(', ')})`);
  return preset;
};
