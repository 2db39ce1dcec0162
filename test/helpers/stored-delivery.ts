import type { DeliveryRecord } from '../../core/stores/delivery-store.js';
import type { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';

/** Stores a delivery of source `default` as the webhook function does (a claim with no lease: `stored`), received now. */
export const claimStored = (store: DynamoDbDeliveryStore, deliveryId: string, clientIp = '127.0.0.1') => {
  const nowMs = Date.now();
  return store.claim(
    {
      source: 'default',
      deliveryId,
      receivedAt: nowMs,
      expiresAt: Math.floor(nowMs / 1000) + 600,
      headers: {},
      body: Buffer.from('{}'),
      clientIp,
    },
    { nowSeconds: Math.floor(nowMs / 1000) },
  );
};

/** A delivery record of source `default`, received at `nowSeconds` and kept for an hour, with a body of its own. */
export const deliveryRecord = (deliveryId: string, nowSeconds: number): DeliveryRecord => ({
  source: 'default',
  deliveryId,
  receivedAt: nowSeconds * 1000,
  expiresAt: nowSeconds + 3600,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ deliveryId })),
  clientIp: '203.0.113.1',
});
