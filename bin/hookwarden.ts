// The CDK app (cdk.json): thin on purpose; lib/app.ts decides, this prints and exits.
import { createApp, DeploymentRefused } from '../lib/app.js';

try {
  createApp();
} catch (error) {
  if (!(error instanceof DeploymentRefused)) throw error;
  process.stderr.write(`${error.message}\n`);
  // Exit now: the App would otherwise synthesize an empty assembly on the way out.
  process.exit(1);
}
