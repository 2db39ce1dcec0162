import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { prodSettings, settingsFor, synth } from './helpers';

describe("cdk-nag's AwsSolutions pack", () => {
  it.each([
    ['dev', settingsFor()],
    ['prod', prodSettings()],
    ['prod without WAF, acknowledged', prodSettings({ wafEnabled: false, wafDisabledAcknowledged: 'CloudFront with its own WAF sits in front (test).' })],
    ['several sources with an imported secret', prodSettings({ sources: [...settingsFor().sources, { name: 'stripe', scheme: 'stripe', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:stripe-AbCdEf', generateSecret: false, allowedIps: [], maxAgeSeconds: 300, maxBodyBytes: 65_536, retentionSeconds: 604_800 }] })],
  ])('finds nothing unacknowledged in the %s stack', (_name, settings) => {
    const { app } = synth(settings);
    expect(() => app.synth()).not.toThrow();
  });

  it('does run: an unsafe resource added to the stack fails the synth', () => {
    const { app, stack } = synth(settingsFor());
    new Bucket(stack, 'Unsafe');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});
