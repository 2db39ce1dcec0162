import { App, Validations, type Stack } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { HookwardenStack } from '../../lib/hookwarden-stack.js';
import type { DeploymentSettings } from '../../lib/settings.js';
import { NO_BUNDLING, prodSettings, settingsFor, sourceFor, synth } from './helpers.js';

const STACKS: Array<[string, DeploymentSettings]> = [
  ['dev', settingsFor()],
  ['prod', prodSettings()],
  [
    'prod without WAF, acknowledged',
    prodSettings({
      wafEnabled: false,
      wafDisabledReason: 'CloudFront with its own web ACL and rate rules sits in front of this regional API (test).',
    }),
  ],
  ['dev behind an HTTP API', settingsFor({ frontDoor: 'http-api' })],
  [
    'prod behind an HTTP API, WAF absence acknowledged',
    prodSettings({
      frontDoor: 'http-api',
      wafEnabled: false,
      wafDisabledReason:
        'The HTTP API cannot carry a WAF; the app-level allowlist, blocklist, rate limits and signature check apply (test).',
    }),
  ],
  [
    'prod with several sources and an imported secret under a customer-managed key',
    prodSettings({
      sources: [
        sourceFor(),
        sourceFor({
          name: 'stripe',
          scheme: 'stripe',
          secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:stripe-AbCdEf',
          secretKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          generateSecret: false,
        }),
      ],
    }),
  ],
];

/** Every acknowledgement in the stack: where it is attached, and the finding id. */
const acknowledgements = (stack: Stack): Array<{ path: string; id: string; reason: string }> =>
  stack.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^Annotation::/, ''),
          reason,
        })),
      ),
  );

describe("cdk-nag's AwsSolutions pack", () => {
  it.each(STACKS)('finds nothing unacknowledged in the %s stack', (_name, settings) => {
    const { app } = synth(settings);
    expect(() => app.synth()).not.toThrow();
  });

  it('does run: an unsafe resource added to the stack fails the synth', () => {
    const { app, stack } = synth(settingsFor());
    new Bucket(stack, 'Unsafe');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it.each(STACKS)('acknowledges only real findings, each on one construct with a reason (%s)', (_name, settings) => {
    const acknowledged = acknowledgements(synth(settings).stack);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const ack of acknowledged) {
      // One resource per acknowledgement: never the stack or app.
      expect(ack.path.split('/').length).toBeGreaterThan(1);
      expect(ack.reason.length).toBeGreaterThan(60);
    }

    // The same stack with acknowledgements ignored: what cdk-nag actually finds.
    const ignore = vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    let findings: Array<{ id: string; path: string }>;
    try {
      const app = new App({ context: NO_BUNDLING });
      const stack = new HookwardenStack(app, 'Hookwarden-dev', { settings });
      const report = new AwsSolutionsChecks(app).validateScope(stack);
      findings = report.violations.flatMap((v) => v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath ?? '' })));
    } finally {
      ignore.mockRestore();
    }
    const stackName = synth(settings).stack.stackName;
    const relative = (path: string) => path.slice(path.indexOf('/') + 1);
    for (const ack of acknowledged) {
      const covered = findings.filter((f) => f.id === ack.id && relative(f.path).startsWith(`${relative(ack.path)}/`));
      expect(covered, `stale acknowledgement ${ack.id} on ${ack.path} (${stackName})`).not.toHaveLength(0);
    }
  });
});
