import { describe, expect, it } from 'vitest';
import { createHmacScheme, github, shopify, signedForAnotherPreset, slack, standardWebhooks, stripe } from '../../../core/schemes/index.js';

const headers = (...names: string[]) => new Map(names.map((name) => [name, ['x']]));

describe('signedForAnotherPreset: the scheme a refused request seems signed for', () => {
  it.each([
    ['x-hub-signature-256', 'github'],
    ['stripe-signature', 'stripe'],
    ['x-slack-signature', 'slack'],
    ['x-shopify-hmac-sha256', 'shopify'],
    ['webhook-signature', 'standard-webhooks'],
    ['svix-signature', 'standard-webhooks'],
  ])('names %s as %s', (header, scheme) => {
    const own = scheme === 'github' ? stripe : github;
    expect(signedForAnotherPreset(headers('content-type', header), own)).toEqual({ scheme, header });
  });

  it("says nothing when the request carries the source's own signature header, or no known one", () => {
    expect(signedForAnotherPreset(headers('webhook-signature', 'stripe-signature'), standardWebhooks)).toBeUndefined();
    expect(signedForAnotherPreset(headers('svix-signature', 'x-hub-signature-256'), standardWebhooks)).toBeUndefined();
    expect(signedForAnotherPreset(headers('x-signature'), slack)).toBeUndefined();
    expect(signedForAnotherPreset(headers('x-shopify-hmac-sha256'), shopify)).toBeUndefined();
  });

  it('knows a generic hmac source by its configured header', () => {
    const hmac = createHmacScheme({ header: 'X-Signature', prefix: 'sha256=' });
    expect(signedForAnotherPreset(headers('x-signature', 'x-hub-signature-256'), hmac)).toBeUndefined();
    expect(signedForAnotherPreset(headers('x-hub-signature-256'), hmac)).toEqual({ scheme: 'github', header: 'x-hub-signature-256' });
  });
});
