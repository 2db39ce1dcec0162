// The hostile-traffic generator shared by test/security/hostile-traffic.test.ts
// (a few hundred cases per family) and `npm run bench:security` (10,000 per family).
import { rawCase, unsignedCase } from './garbage.js';
import { Rng } from './rng.js';
import { headersCase, signedCase, type HostileCase, type SignedSource } from './signed.js';

export type { HostileCase, SignedSource } from './signed.js';

/** The four families of the issue, in order. */
export const FAMILIES = ['unsigned', 'signed', 'raw', 'headers'] as const;
export type Family = (typeof FAMILIES)[number];

/** The default seed; `HOOKWARDEN_SECURITY_SEED` replays another run. */
export const DEFAULT_SEED = 0x5eed_8;

/**
 * `count` cases of one family, generated lazily (a 2 MiB body is built only
 * when it is sent). The same seed, family and sources give the same cases;
 * only signed timestamps follow the clock.
 */
export function* hostileCases(family: Family, count: number, seed: number, sources: readonly SignedSource[]): Generator<HostileCase> {
  // One stream per family, so changing one family's count does not reshuffle another's cases.
  const rng = new Rng(seed ^ Math.imul(FAMILIES.indexOf(family) + 1, 0x9e3779b1));
  const names = sources.map((s) => s.name);
  for (let i = 0; i < count; i++) {
    if (family === 'unsigned') yield unsignedCase(rng, names);
    else if (family === 'signed') yield signedCase(rng, sources, i);
    else if (family === 'raw') yield rawCase(rng, names);
    else yield headersCase(rng, sources, i);
  }
}
