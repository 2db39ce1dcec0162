// npm run bench: every benchmark section, in one process.
import { dynamoCallsBenchmark } from './dynamodb-calls';
import { rateLimitAccuracyBenchmark } from './rate-limit-accuracy';
import { verifyBenchmark } from './verify';

const sections: ReadonlyArray<() => Promise<void>> = [verifyBenchmark, dynamoCallsBenchmark, rateLimitAccuracyBenchmark];

for (const section of sections) await section();
