// npm run bench: every benchmark section, in one process. `npm run bench:security`
// (tsx bench/index.ts security) runs only the hostile-traffic section, which is long.
import '../local/quiet-aws-sdk';
import { dynamoCallsBenchmark } from './dynamodb-calls';
import { rateLimitAccuracyBenchmark } from './rate-limit-accuracy';
import { securityBenchmark } from './security';
import { verifyBenchmark } from './verify';

const sections: ReadonlyArray<() => Promise<void>> = process.argv.includes('security')
  ? [securityBenchmark]
  : [verifyBenchmark, dynamoCallsBenchmark, rateLimitAccuracyBenchmark];

for (const section of sections) await section();
