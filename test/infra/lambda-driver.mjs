// Run by the node@24 binary as a stand-in for the Lambda runtime: the working directory is the
// bundle (Lambda's task root), the environment is the template's. Imports the bundled handler
// once (cold start), invokes it with each event in turn and writes the answers to a file.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventsFile, answersFile] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(bundle).href);
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const answers = [];
for (const [index, event] of events.entries()) {
  const context = {
    awsRequestId: `request-${index}`,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    getRemainingTimeInMillis: () => 10_000,
  };
  const answer = await handler(event, context);
  answers.push({ statusCode: answer.statusCode, body: answer.body });
}
writeFileSync(answersFile, JSON.stringify({ node: process.version, answers }));
