import { App, type AppProps } from 'aws-cdk-lib';
import { withoutSecrets } from '../core/redaction.js';
import { stageProblems } from './checklist.js';
import type { WebhookHandler } from './constructs/webhook-functions.js';
import { HookwardenStack } from './hookwarden-stack.js';
import { enableNag } from './nag.js';
import { CONTEXT_KEYS, mistypedContextKeys, readSettings, type DeploymentSettings } from './settings.js';

/**
 * Thrown when the configuration may not be synthesized; lists every problem. A value shaped like a secret (one
 * pasted into `-c corsOrigins=…` or `WEBHOOK_SCHEME`) is not quoted: `cdk synth` output lands in CI logs.
 */
export class DeploymentRefused extends Error {
  override readonly name = 'DeploymentRefused';
  readonly problems: readonly string[];
  constructor(stage: string, problems: readonly string[]) {
    const shown = problems.map((problem) => withoutSecrets(problem, []));
    super(`Refusing to synthesize the ${stage} stack:\n${shown.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = shown;
  }
}

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /** Passed to the `App` (tests set `context` and `outdir` here). @default {} (context from the CDK CLI) */
  readonly appProps?: AppProps;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Where `hookwarden.config.json` is looked for. @default process.cwd() */
  readonly cwd?: string;
  /** Your own webhook handler, deployed with everything Hookwarden's gets. @default - Hookwarden's own handler */
  readonly webhookHandler?: WebhookHandler;
  /**
   * Context keys your own app reads. A key within two edits of one the deploy reads is refused as its typo
   * (`-c stgae=prod`); a key of yours listed here is not (`stages`). Naming one of Hookwarden's keys is an error.
   * @default [] */
  readonly ownContextKeys?: readonly string[];
}

/** The stack's name for a stage: one stack per stage, so dev and prod can share an account. */
export const stackName = (stage: DeploymentSettings['stage']): string => (stage === 'prod' ? 'Hookwarden-prod' : 'Hookwarden-dev');

/**
 * The CDK app: settings from `hookwarden.config.json` and context, checked
 * (the production checklist in prod), the stack, and cdk-nag.
 * @throws DeploymentRefused listing every problem, before any construct is built
 */
export const createApp = (options: CreateAppOptions = {}): { app: App; stack: HookwardenStack; settings: DeploymentSettings } => {
  const app = new App(options.appProps);
  const { settings, problems } = readSettings((key) => app.node.tryGetContext(key), options.env, options.cwd);
  const ownKeys = options.ownContextKeys ?? [];
  const refused = [
    ...problems,
    ...ownKeys
      .filter((key) => (CONTEXT_KEYS as readonly string[]).includes(key))
      .map((key) => `ownContextKeys: "${key}" is a key Hookwarden reads`),
    ...mistypedContextKeys(Object.keys(app.node.getAllContext()), ownKeys),
    ...stageProblems(settings),
  ];
  if (refused.length > 0) throw new DeploymentRefused(settings.stage, refused);
  const stack = new HookwardenStack(app, stackName(settings.stage), {
    settings,
    ...(options.webhookHandler ? { webhookHandler: options.webhookHandler } : {}),
    description: `Hookwarden (${settings.stage}): secure front door for webhooks`,
  });
  enableNag(app);
  return { app, stack, settings };
};
