import { casesFor } from './verify.js';
const [name = 'stripe', size = '1024'] = process.argv.slice(2);
const cases = casesFor(name as 'stripe', Number(size));
const ours = cases.find((c) => c.kind === 'ours')!;
const t = process.hrtime.bigint();
for (let i = 0; i < 500_000; i++) ours.run();
console.log(name, Number(process.hrtime.bigint() - t) / 1e6, 'ms');
