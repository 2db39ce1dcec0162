/** A delivery as it is stored: what a consumer needs to process it. */
export interface DeliveryRecord {
  readonly source: string;
  /** The replay key (signed material only; see `VerifiedDelivery.deliveryId`). */
  readonly deliveryId: string;
  /** The provider's unsigned delivery id, for display and search. */
  readonly providerId?: string;
  /** Epoch milliseconds. */
  readonly receivedAt: number;
  /** TTL, epoch seconds; the record is ignored (and replaceable) after it. */
  readonly expiresAt: number;
  readonly eventType?: string;
  /** Headers worth keeping (event type, provider ids, content type), lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body bytes (compressed by the store). */
  readonly body: Buffer;
  readonly clientIp: string;
}

/** A record read back, with its processing state. */
export interface StoredDelivery extends DeliveryRecord {
  /** `stored`: complete. `processing`: a wrapped handler holds it until `leaseExpiresAt`. */
  readonly status: 'stored' | 'processing';
  readonly leaseExpiresAt?: number;
}

/** A stored delivery's processing state: all a copy's answer (duplicate, or in progress until when) needs. */
export type DeliveryState = Pick<StoredDelivery, 'status' | 'leaseExpiresAt'>;

/** The answer of {@link DeliveryStore.claim}. */
export type ClaimResult =
  | { readonly outcome: 'claimed'; readonly token: string }
  | { readonly outcome: 'duplicate'; readonly status: 'stored' | 'processing'; readonly leaseExpiresAt?: number };

/** Options of {@link DeliveryStore.claim}. */
export interface ClaimOptions {
  /** Now, epoch seconds: records whose `expiresAt` (or lease) passed count as absent. */
  readonly nowSeconds: number;
  /**
   * When set, the record is written as `processing` and only holds for this many
   * seconds unless completed (a crashed handler must not block the retry forever);
   * its `expiresAt` is then never before the lease. When unset the record is written complete (`stored`).
   */
  readonly leaseSeconds?: number;
}

/**
 * Stores each delivery exactly once; doubles as the replay guard.
 * Implementations translate their SDK's errors: an unreachable or throttled
 * backend is a `StoreUnavailableError`, nothing half-written.
 */
export interface DeliveryStore {
  /** Writes the record unless a live one with the same source and id exists (one conditional write). */
  claim(record: DeliveryRecord, options: ClaimOptions): Promise<ClaimResult>;
  /** Marks a `processing` record as `stored`, if this token still holds it; once (a second call changes nothing). */
  complete(source: string, deliveryId: string, token: string): Promise<void>;
  /** Removes the record this token wrote (the handler failed; the provider's retry must be processed). */
  release(source: string, deliveryId: string, token: string): Promise<void>;
  /** One live delivery, or `undefined`. */
  get(source: string, deliveryId: string, nowSeconds: number): Promise<StoredDelivery | undefined>;
  /**
   * A live delivery's processing state without its body, or `undefined` (a copy's answer needs no more). Optional:
   * callers fall back to {@link DeliveryStore.get}, which may read much more (a large body's parts).
   */
  stateOf?(source: string, deliveryId: string, nowSeconds: number): Promise<DeliveryState | undefined>;
  /** Live deliveries, newest first (a scan: for the local command line, not the request path). */
  list(options: { readonly source?: string; readonly limit: number; readonly nowSeconds: number }): Promise<StoredDelivery[]>;
  /** Resolves when the backing table answers. */
  ping(): Promise<void>;
}

/** The key of a delivery: `source#deliveryId`. */
export const deliveryKey = (source: string, deliveryId: string): string => `${source}#${deliveryId}`;
