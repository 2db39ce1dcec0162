import type { SignatureScheme } from '../schemes/types.js';

/**
 * The least key material any source accepts, in bytes, after the scheme has
 * decoded the secret (a `whsec_` key's base64 decoded). A shorter HMAC key can
 * be searched for offline from one captured delivery.
 */
export const MIN_KEY_BYTES = 16;

/**
 * Decodes a configured secret with the source's scheme and checks its length.
 * @throws Error whose message is fit for a configuration error or a log line:
 * it describes the problem and never contains the secret
 * @example const key = decodeKey(github, process.env.GITHUB_WEBHOOK_SECRET ?? '');
 */
export const decodeKey = (scheme: Pick<SignatureScheme, 'decodeSecret'>, secret: string): Buffer => {
  const key = scheme.decodeSecret(secret);
  if (key.length < MIN_KEY_BYTES) {
    throw new Error(`has ${key.length} byte${key.length === 1 ? '' : 's'} of key material; at least ${MIN_KEY_BYTES} are needed`);
  }
  return key;
};

/**
 * Why a source of this scheme could not use `secret` as a key ({@link decodeKey}'s message: never the secret), or
 * `undefined` when it can. A rotation never switches a provider to a key the functions would skip.
 */
export const keyProblem = (scheme: Pick<SignatureScheme, 'decodeSecret'>, secret: string): string | undefined => {
  try {
    decodeKey(scheme, secret);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
};
