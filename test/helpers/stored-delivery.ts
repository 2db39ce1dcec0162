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
