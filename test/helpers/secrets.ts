/**
 * Every secret the test suite uses, in one place, so the log scan
 * (test/setup/log-scan) can prove none of them ever reaches a log line.
 */
export const TEST_SECRETS = {
  standardWebhooks: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  standardWebhooksSecond: 'whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24=',
  stripe: 'whsec_test_stripe_secret_4f3c2a1b',
  github: "It's a Secret to Everybody",
  slack: '8f742231b10e8888abcd99yyyzzz85a5',
  shopify: 'shpss_test_shopify_secret_0123456789',
  hmac: 'generic-hmac-secret-for-tests',
} as const;
