// The event type read after verification: Hookwarden's scan of the body against JSON.parse of it, in one process.
import { parsedStringAt } from '../core/schemes/json-scan.js';
import { resolveScheme } from '../core/schemes/index.js';
import { print } from './measure.js';
import { bodyOf, median, measureRounds, type Case, type SchemeName } from './verify.js';

/** The schemes whose event type is in the body, and where: GitHub and Shopify send it in a header. */
const PATHS: ReadonlyArray<readonly [SchemeName, readonly [string, ...string[]]]> = [
  ['standard-webhooks', ['type']],
  ['stripe', ['type']],
  ['slack', ['event', 'type']],
];
const SIZES = [1024, 64 * 1024, 256 * 1024];

/** Prints, per scheme and body size, the scan's reads per CPU-second against JSON.parse's. */
export const eventTypeBenchmark = async (): Promise<void> => {
  print('## Event type, read after verification (reads per CPU-second, medians of per-round ratios)');
  print('');
  print('| scheme | body | scan | JSON.parse | scan ÷ JSON.parse |');
  print('|---|---|---|---|---|');
  for (const [schemeName, path] of PATHS) {
    const scheme = resolveScheme(schemeName);
    for (const size of SIZES) {
      const request = { headers: new Map(), body: Buffer.from(bodyOf(schemeName, size)) };
      const expected = parsedStringAt(request.body, path);
      if (!expected || scheme.eventTypeOf?.(request) !== expected)
        throw new Error(`bench: ${schemeName} reads no event type, or another one`);
      const cases: Case[] = [
        { name: 'scan', kind: 'ours', run: () => scheme.eventTypeOf?.(request) },
        // What every scheme did before the scan: parse the whole body, then read the field.
        { name: 'JSON.parse', kind: 'raw', run: () => parsedStringAt(request.body, path) },
      ];
      const rounds = await measureRounds(cases);
      const scan = rounds.get('scan') as number[];
      const parse = rounds.get('JSON.parse') as number[];
      const us = (perSecond: number) => `${(1e6 / perSecond).toFixed(perSecond > 1e5 ? 2 : 0)} µs`;
      print(
        `| ${schemeName} | ${size / 1024} KiB | ${us(median(scan))} | ${us(median(parse))} | ${median(scan.map((v, r) => v / (parse[r] as number))).toFixed(1)} |`,
      );
    }
  }
  print('');
  print("The bodies are the verification rows' (many short strings). GitHub and Shopify read the event type from a header.");
  print('');
};
