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
  /**
   * Without `leaseSeconds`: how long the record of a body stored in parts holds as `processing` while the parts are
   * written after it (copies meanwhile are told it is in progress). Never shorter than the writer can still write
   * (its invocation's time): a lease that lapsed under a live writer would let a copy take over and remove its parts.
   * @default 60
   */
  readonly storingLeaseSeconds?: number;
}

/** Options of {@link DeliveryStore.get}. */
export interface GetOptions {
  /**
   * Called before each read the store makes, with the most read units it can cost (a strongly consistent read: one per
   * 4 KB of each item): for the delivery's record (and a record read again) the most any item costs, 100, since its size
   * is not known before it is read; for a large body's parts, their count times the most a part costs, known from the
   * record. A read budget charges them here (the deliveries API's `GET /deliveries/{source}/{id}`); a throw stops the
   * read there and is the caller's answer. A store that reads no items one by one may call it once with what it reads.
   * @default none
   */
  readonly beforeRead?: (units: number) => Promise<void>;
  /**
   * Called after each read {@link beforeRead} was told of, with the read units it cost (its items' sizes): never more
   * than that read was told, for items the store wrote. A read budget hands back the difference. Not called when the
   * read failed (nothing is handed back: stricter). @default none
   */
  readonly afterRead?: (units: number) => void;
  /**
   * Called before a large body's parts are read, with the body's size as its record gives it: a throw stops the read
   * there and is the caller's answer (the deliveries API refuses a body no answer can carry before reading megabytes of
   * parts, and charging them, to answer 413). @default none
   */
  readonly beforeParts?: (bodyBytes: number) => void;
}

/**
 * Stores each delivery exactly once; doubles as the replay guard.
 * Implementations translate their SDK's errors: an unreachable or throttled
 * backend is a `StoreUnavailableError`, nothing half-written.
 */
export interface DeliveryStore {
  /**
   * Writes the record unless a live one with the same source and id exists (one conditional write; a body stored in
   * parts is written after it, by the claim that won, the record `processing` meanwhile).
   */
  claim(record: DeliveryRecord, options: ClaimOptions): Promise<ClaimResult>;
  /**
   * Marks a `processing` record as `stored`, if this token still holds it; once (a second call changes nothing).
   * Resolves `false` when the token no longer holds the record (its lease ran out and another claim took it over, or
   * it is gone): nothing was changed, and the caller must say so, since the handler may have run twice. `true` (or
   * nothing, for a store that cannot tell) when the record is this token's and stored.
   */
  complete(source: string, deliveryId: string, token: string): Promise<void | boolean>;
  /**
   * Removes the record this token wrote (the handler failed; the provider's retry must be processed). Resolves
   * `false` when another claim holds the record (its lease ran out and a retry took it over): nothing was removed.
   * `true` (or nothing, for a store that cannot tell) otherwise, including a record already gone.
   */
  release(source: string, deliveryId: string, token: string): Promise<void | boolean>;
  /**
   * Moves the lease of a `processing` record this token holds to `leaseExpiresAt` (epoch seconds; its `expiresAt`
   * with it, never before the lease), for a runtime that lets a handler run on past its function's timeout (the
   * local server): `false` when the token no longer holds the record. Optional: without it the lease is never renewed.
   */
  renew?(source: string, deliveryId: string, token: string, leaseExpiresAt: number): Promise<boolean>;
  /** One live delivery, or `undefined` (also for one still `processing` whose body is not whole yet). */
  get(source: string, deliveryId: string, nowSeconds: number, options?: GetOptions): Promise<StoredDelivery | undefined>;
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
