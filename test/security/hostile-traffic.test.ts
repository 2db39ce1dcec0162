import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecurityTarget, type SecurityTarget } from './target.js';
import { DEFAULT_SEED, FAMILIES, hostileCases } from './traffic.js';
import { sendAll, summarize } from './verdict.js';

// A few hundred per family keeps this file near 30 s on two cores (signed bodies run to 2 MB, so fewer of
// them); `npm run bench:security` sends 10,000 per family. The timeout is for a shared, loaded machine.
const PER_FAMILY = { unsigned: 300, signed: 200, raw: 300, headers: 300 } as const;
const FAMILY_TIMEOUT_MS = 120_000;
const SEED = Number(process.env.HOOKWARDEN_SECURITY_SEED ?? DEFAULT_SEED);

describe(`generated hostile traffic against the real local server (seed ${SEED})`, () => {
  let target: SecurityTarget;
  beforeAll(async () => {
    target = await startSecurityTarget();
    // The valid deliveries the last test sends must be the only difference: start from a server that accepts them.
    expect(Object.values(await target.validDeliveries())).toEqual(target.sources.map(() => 202));
  });
  afterAll(() => target?.close());

  it.each(FAMILIES)(
    '%s: no 5xx, no internals or secrets, the error shape and security headers on every answer',
    async (family) => {
      const result = await sendAll(hostileCases(family, PER_FAMILY[family], SEED, target.sources), {
        port: target.port,
        forbidden: target.forbidden,
        concurrency: 4,
      });
      const answered = [...result.counts.entries()].filter(([status]) => /^\d+$/.test(status)).reduce((sum, [, n]) => sum + n, 0);
      // A family the server never answered would prove nothing.
      expect(answered).toBeGreaterThan(PER_FAMILY[family] / 2);
      expect(summarize(result.findings)).toEqual([]);
    },
    FAMILY_TIMEOUT_MS,
  );

  it('leaves a healthy server: a valid signed delivery of every scheme still gets 202', async () => {
    expect(await target.validDeliveries()).toEqual(Object.fromEntries(target.sources.map((s) => [s.name, 202])));
  });
});
