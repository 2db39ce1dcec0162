// npm run bench: every benchmark section, in one process.
import { verifyBenchmark } from './verify';

const sections: ReadonlyArray<() => Promise<void>> = [verifyBenchmark];

for (const section of sections) await section();
