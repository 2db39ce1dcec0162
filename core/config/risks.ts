import { familiesCovered } from '../net.js';
import { isObject, nearest } from './keys.js';
import { list, ranges, stringArray, type Problems } from './rules.js';

/**
 * Values that are valid but dangerous: refused unless acknowledged by name in
 * the file's `acceptRisks` or in `HOOKWARDEN_ACCEPT_RISKS` (comma-separated).
 */
export const RISKS = ['trust-any-proxy', 'allow-any-ip', 'hmac-template-without-separator'] as const;
/** One acknowledgeable risk. */
export type Risk = (typeof RISKS)[number];

/** The risks acknowledged in the environment and the config document; an unknown name is a problem naming the nearest. */
export const acceptedRisks = (problems: Problems, env: NodeJS.ProcessEnv, document: unknown, origin = 'config'): ReadonlySet<Risk> => {
  const names = [
    ...list(env.HOOKWARDEN_ACCEPT_RISKS).map((name) => ['HOOKWARDEN_ACCEPT_RISKS', name] as const),
    ...(isObject(document) ? stringArray(problems, `${origin} acceptRisks`, document.acceptRisks) : []).map(
      (name) => [`${origin} acceptRisks`, name] as const,
    ),
  ];
  const accepted = new Set<Risk>();
  for (const [where, name] of names) {
    if ((RISKS as readonly string[]).includes(name)) accepted.add(name as Risk);
    else problems.add(where, `unknown risk ${JSON.stringify(name)}; the nearest is "${nearest(name, RISKS)}" (one of ${RISKS.join(', ')})`);
  }
  return accepted;
};

/** Adds the problem unless the risk is acknowledged. */
export const unlessAccepted = (problems: Problems, accepted: ReadonlySet<Risk>, risk: Risk, where: string, what: string): void => {
  if (!accepted.has(risk))
    problems.add(where, `${what}; if that is really intended, acknowledge it with "${risk}" in acceptRisks or HOOKWARDEN_ACCEPT_RISKS`);
};

/**
 * Every IPv4 or every IPv6 address, covered by the list: one `/0` named as it is, or
 * several ranges that add up to it (`0.0.0.0/1, 128.0.0.0/1`) named together.
 */
const everyAddress = (entries: readonly string[]): string[] =>
  familiesCovered(entries).map((family) => {
    const zero = entries.find((entry) => familiesCovered([entry]).includes(family));
    return zero !== undefined ? `"${zero}"` : `together, its ${family === 'ipv4' ? 'IPv4' : 'IPv6'} ranges`;
  });

/**
 * Valid ranges, and not every address unless `risk` is acknowledged; `verb` and
 * `consequence` complete the problem (`"0.0.0.0/0" allows every address, so …`).
 */
const rangesUnlessEveryAddress =
  (risk: Risk, verb: string, consequence: string) =>
  (problems: Problems, where: string, entries: readonly string[], accepted: ReadonlySet<Risk>): readonly string[] => {
    for (const what of everyAddress(entries)) {
      unlessAccepted(problems, accepted, risk, where, `${what} ${verb}${what.startsWith('"') ? 's' : ''} ${consequence}`);
    }
    return ranges(problems, where, entries);
  };

/** Trusted proxies: not every address (it would let any client choose its own address). */
export const proxyRanges = rangesUnlessEveryAddress(
  'trust-any-proxy',
  'trust',
  'X-Forwarded-For from every address, so any client can choose the address the allowlist, blocklist and rate limits see',
);

/** An allowlist: not every address (it allows everyone while looking like a restriction). */
export const allowedRanges = rangesUnlessEveryAddress(
  'allow-any-ip',
  'allow',
  'every address, so the allowlist restricts nothing (leave it empty to allow any address)',
);
