// npm run bench: every benchmark section, in one process. `npm run bench:security`
// (tsx bench/index.ts security) runs only the hostile-traffic section, which is long.
import '../local/quiet-aws-sdk.js';
import { dynamoCallsBenchmark } from './dynamodb-calls.js';
import { eventStreamBenchmark } from './event-stream.js';
import { rateLimitAccuracyBenchmark } from './rate-limit-accuracy.js';
import { securityBenchmark } from './security.js';
import { verifyBenchmark } from './verify.js';

const sections: ReadonlyArray<() => Promise<void>> = process.argv.includes('security')
  ? [securityBenchmark]
  : process.argv.includes('stream')
    ? [eventStreamBenchmark]
    : [verifyBenchmark, dynamoCallsBenchmark, rateLimitAccuracyBenchmark, eventStreamBenchmark];

for (const section of sections) await section();
