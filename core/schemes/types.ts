import type { AuthenticationFailureCode } from '../errors.js';
import type { HeaderMap } from '../headers.js';

/** The bytes and headers of one delivery, exactly as received. */
export interface SignedRequest {
  /** Lower-case header names; every value the sender sent. */
  readonly headers: HeaderMap;
  /** The raw body bytes (API Gateway's `isBase64Encoded` already decoded). */
  readonly body: Buffer;
}

/** Clock and tolerance for schemes that sign a timestamp. */
export interface VerifyOptions {
  /** Now, in Unix seconds. */
  readonly nowSeconds: number;
  /** Largest accepted difference between the signed timestamp and now, past or future. */
  readonly maxAgeSeconds: number;
}

/** A delivery whose signature (and timestamp, where signed) checked out. */
export interface VerifiedDelivery {
  readonly ok: true;
  /**
   * The replay key, built from signed material only: the provider's id where
   * the signature covers it (Standard Webhooks' `webhook-id`, Stripe's and
   * Slack's body ids, an `hmac` template with `{id}`), else `sig_` and a
   * one-way hash of the signed bytes (see {@link signedId}). An unsigned id
   * would let a captured delivery be replayed under a fresh id. A hash is
   * computed on first read, by a getter on the prototype: read the field,
   * never spread the result (`{ ...result }` leaves it out).
   */
  readonly deliveryId: string;
  /**
   * The provider's own delivery id when the signature does not cover it
   * (`X-GitHub-Delivery`, `X-Shopify-Webhook-Id`, an `hmac` id header outside
   * the template): kept for display and search, never the replay key.
   */
  readonly providerId?: string;
  /** The signed timestamp, Unix seconds, where the scheme has one. */
  readonly timestampSeconds?: number;
  /** The provider's event type where it names one (header or body). */
  readonly eventType?: string;
}

/** Why a delivery was refused. `reason` is for the log only: it never names a secret or signature value. */
export interface RejectedDelivery {
  readonly ok: false;
  readonly code: AuthenticationFailureCode;
  readonly reason: string;
  /**
   * The signature was well formed but matched none of the keys: the one refusal
   * a key the verifier has not loaded yet could turn into an acceptance (the
   * signature middleware answers it 503 while its keys are stale).
   */
  readonly noKeyMatched?: true;
}

/** The outcome of {@link SignatureScheme.verify}. */
export type VerifyResult = VerifiedDelivery | RejectedDelivery;

/** What a sender puts in a signed message; fields a scheme does not use are ignored. */
export interface SignInput {
  readonly body: Buffer;
  /** Delivery id for schemes that send one in a header. */
  readonly id?: string;
  /** Unix seconds for schemes that sign a timestamp. @default now */
  readonly timestampSeconds?: number;
}

/**
 * One provider's signature scheme: parse headers, build the signed bytes,
 * compare in constant time. Pure: no I/O, no clock (the caller passes `nowSeconds`).
 */
export interface SignatureScheme {
  /** Preset name, e.g. `github`. */
  readonly name: string;
  /** Lower-case names of headers worth keeping with a stored delivery (event type, ids, ...). */
  readonly keptHeaders: readonly string[];
  /**
   * Lower-case names of the headers its signature travels in. A refusal for a missing signature names the scheme
   * whose header the request carries instead (a source configured with the wrong scheme). @default none
   */
  readonly signatureHeaders?: readonly string[];
  /**
   * Turns a configured secret into key bytes, at cold start.
   * @throws Error with a message fit for a configuration error (never containing the secret)
   */
  decodeSecret(secret: string): Buffer;
  /** Checks a request against every key; succeeds if any key matches any signature sent. */
  verify(request: SignedRequest, keys: readonly Buffer[], options: VerifyOptions): VerifyResult;
  /**
   * The event type carried in the body (Standard Webhooks, Stripe and Slack put it
   * there). Called after verification, only when the delivery is stored, so the
   * body is not parsed on the verification path.
   */
  eventTypeOf?(request: SignedRequest): string | undefined;
  /** The headers a provider would send for this message (used by the CLI, the local server's banner and tests). */
  sign(secret: string, input: SignInput): Record<string, string>;
}

/** Options of the generic `hmac` scheme. */
export interface HmacSchemeOptions {
  /** Header carrying the signature (case-insensitive). */
  readonly header: string;
  /** Text before the encoded MAC, e.g. `sha256=`. @default '' */
  readonly prefix?: string;
  /** Encoding of the MAC. @default 'hex' */
  readonly encoding?: 'hex' | 'base64';
  /** Header carrying a Unix-seconds timestamp; when set, freshness is enforced. */
  readonly timestampHeader?: string;
  /** Header carrying the delivery id: the replay key when `template` has `{id}`, else displayed only (the key is then the signed bytes' hash). */
  readonly idHeader?: string;
  /**
   * The signed string, with `{id}`, `{timestamp}` and `{body}` placeholders.
   * @default '{body}'
   */
  readonly template?: string;
}
