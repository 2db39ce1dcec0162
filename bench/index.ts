// npm run bench: every benchmark section but the long hostile-traffic one, in one process.
// Sections by name run alone: `npm run bench -- verify`; `npm run bench:security` runs the hostile-traffic one.
import '../local/quiet-aws-sdk.js';
import { coldStartBenchmark } from './cold-start.js';
import { dynamoCallsBenchmark } from './dynamodb-calls.js';
import { eventStreamBenchmark } from './event-stream.js';
import { eventTypeBenchmark } from './event-type.js';
import { rateLimitAccuracyBenchmark } from './rate-limit-accuracy.js';
import { securityBenchmark } from './security.js';
import { serverThroughputBenchmark } from './server-throughput.js';
import { verifyBenchmark } from './verify.js';

const ALL = {
  verify: verifyBenchmark,
  'event-type': eventTypeBenchmark,
  dynamodb: dynamoCallsBenchmark,
  'rate-limit': rateLimitAccuracyBenchmark,
  server: serverThroughputBenchmark,
  'cold-start': coldStartBenchmark,
  stream: eventStreamBenchmark,
  security: securityBenchmark,
} as const;
const DEFAULT: ReadonlyArray<keyof typeof ALL> = ['verify', 'event-type', 'server', 'cold-start', 'dynamodb', 'rate-limit', 'stream'];
const named = process.argv.slice(2).filter((name): name is keyof typeof ALL => name in ALL);
const unknown = process.argv.slice(2).filter((name) => !(name in ALL));
// A mistyped section is a usage error, not a crash: one line and exit 2, as the CLI answers bad arguments.
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown section ${unknown.join(', ')} (known: ${Object.keys(ALL).join(', ')})\n`);
  process.exit(2);
}

for (const name of named.length > 0 ? named : DEFAULT) await ALL[name]();
