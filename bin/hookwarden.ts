// The CDK app (cdk.json): settings from hookwarden.config.json and context; the production checklist; cdk-nag.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configurationProblems, productionChecklist } from '../lib/checklist';
import { HookwardenStack } from '../lib/hookwarden-stack';
import { readSettings } from '../lib/settings';

const app = new App();
const settings = readSettings((key) => app.node.tryGetContext(key));
const problems = [...configurationProblems(settings), ...(settings.stage === 'prod' ? productionChecklist(settings) : [])];
if (problems.length > 0) {
  process.stderr.write(`Refusing to synthesize the ${settings.stage} stack:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
new HookwardenStack(app, settings.stage === 'prod' ? 'Hookwarden-prod' : 'Hookwarden-dev', {
  settings,
  description: `Hookwarden (${settings.stage}): secure front door for webhooks`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
