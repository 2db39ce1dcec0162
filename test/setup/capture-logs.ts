// Every worker tees what it writes to stdout/stderr into .tmp/test-logs, so
// log-scan.ts can check the whole suite's log output for secrets and signatures.
// Powertools' JSON log and EMF lines go to the file only, keeping the terminal readable.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(process.cwd(), '.tmp', 'test-logs');
mkdirSync(dir, { recursive: true });
const file = join(dir, `worker-${process.pid}.log`);
const key = Symbol.for('hookwarden.capture-logs');
const globals = globalThis as Record<symbol, boolean>;

if (!globals[key]) {
  globals[key] = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      appendFileSync(file, text);
      if (text.startsWith('{"')) return true;
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}
