// The server under attack: the real local server (startLocal, as `npm start`
// runs it, store in memory) with one source per signature scheme.
import { tmpdir } from 'node:os';
import { resolveScheme } from '../../core/schemes/index.js';
import type { Telemetry } from '../../core/telemetry.js';
import { startLocal, type LocalHookwarden } from '../../local/index.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import type { SignedSource } from './signed.js';
import type { Forbidden } from './verdict.js';
import { exchange, httpRequest } from './wire.js';
import { Rng } from './rng.js';
import { signedLines } from './signed.js';

const HMAC = {
  header: 'X-Signature',
  prefix: 'sha256=',
  encoding: 'hex',
  timestampHeader: 'X-Timestamp',
  idHeader: 'X-Id',
  template: '{id}.{timestamp}.{body}',
} as const;

/** One source per scheme; bodies up to 4 MiB, so that 2 MB strings reach the signature check and the store. */
const SOURCES = [
  { name: 'sw', scheme: 'standard-webhooks', secretEnv: 'SW_SECRET', secret: TEST_SECRETS.standardWebhooks },
  { name: 'gh', scheme: 'github', secretEnv: 'GH_SECRET', secret: TEST_SECRETS.github },
  { name: 'st', scheme: 'stripe', secretEnv: 'ST_SECRET', secret: TEST_SECRETS.stripe },
  { name: 'sl', scheme: 'slack', secretEnv: 'SL_SECRET', secret: TEST_SECRETS.slack },
  { name: 'sh', scheme: 'shopify', secretEnv: 'SH_SECRET', secret: TEST_SECRETS.shopify },
  { name: 'hm', scheme: 'hmac', secretEnv: 'HM_SECRET', secret: TEST_SECRETS.hmac, hmac: HMAC },
] as const;

/** A running target and what the checks need to know about it. */
export interface SecurityTarget {
  readonly local: LocalHookwarden;
  readonly port: number;
  readonly sources: readonly SignedSource[];
  readonly forbidden: Forbidden;
  /** Statuses of one valid signed delivery per source (all 202 on a healthy server). */
  validDeliveries(): Promise<Record<string, number | string>>;
  close(): Promise<void>;
}

/**
 * Starts the target. Loopback is a trusted proxy, so spoofed `X-Forwarded-For`
 * chains reach the client-address code, and one origin is allowed, so CORS runs.
 */
export const startSecurityTarget = async (telemetry?: Telemetry): Promise<SecurityTarget> => {
  const env: NodeJS.ProcessEnv = {
    HOOKWARDEN_CONFIG_JSON: JSON.stringify({
      sources: SOURCES.map(({ name, scheme, secretEnv, ...rest }) => ({
        name,
        scheme,
        secretEnv,
        maxBodyBytes: 4 * 1024 * 1024,
        ...('hmac' in rest ? { hmac: rest.hmac } : {}),
        ...(name === 'sw' ? { clientRateLimit: '100000/60s' } : {}),
      })),
      corsOrigins: ['https://app.example.com'],
      trustedProxies: ['127.0.0.1/32'],
    }),
    ...Object.fromEntries(SOURCES.map((s) => [s.secretEnv, s.secret])),
  };
  const local = await startLocal({ env, cwd: tmpdir(), port: 0, inMemory: true, ...(telemetry ? { telemetry } : {}) });
  const sources: SignedSource[] = SOURCES.map((s) => ({
    name: s.name,
    scheme: resolveScheme(s.scheme, 'hmac' in s ? s.hmac : undefined),
    secret: s.secret,
  }));
  const secrets = sources.flatMap((s) => {
    const key = s.scheme.decodeSecret(s.secret);
    return [s.secret, key.toString('hex'), key.toString('base64'), key.toString('base64url')].filter((v) => v.length >= 12);
  });
  const port = Number(new URL(local.url).port);
  const rng = new Rng(1);
  return {
    local,
    port,
    sources,
    forbidden: { secrets, names: [local.config.tables.deliveries, local.config.tables.rateLimits] },
    validDeliveries: async () => {
      const statuses: Record<string, number | string> = {};
      for (const source of sources) {
        const body = Buffer.from(JSON.stringify({ id: `evt_${rng.hex(12)}`, event_id: `Ev${rng.hex(10)}`, type: 'health.check' }));
        const result = await exchange(
          port,
          httpRequest('POST', `/webhooks/${source.name}`, [...signedLines(source, body, rng), ['Content-Type', 'application/json']], body),
          10_000,
        );
        statuses[source.name] = result.answers[0]?.status ?? result.outcome;
      }
      return statuses;
    },
    close: () => local.close(),
  };
};
