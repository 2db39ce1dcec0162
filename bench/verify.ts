// Verification throughput per scheme against the providers' own libraries and raw node:crypto, in one process.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import type { HeaderMap } from '../functions/shared/headers';
import { resolveScheme } from '../functions/shared/schemes';
import type { SignatureScheme } from '../functions/shared/schemes/types';
import { measure, ops, print, type Case } from './measure';

const SECRETS: Record<string, string> = {
  'standard-webhooks': 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  stripe: 'whsec_bench_stripe_secret',
  github: 'bench github secret',
  slack: 'bench slack secret',
  shopify: 'bench shopify secret',
  hmac: 'bench hmac secret',
};
const HMAC_OPTIONS = { header: 'x-signature', prefix: 'sha256=', timestampHeader: 'x-timestamp', template: '{timestamp}.{body}' };

const bodyOf = (size: number): string => {
  const head = '{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","type":"invoice.paid","event_id":"Ev0BENCH","data":{"pad":"';
  const tail = '"}}';
  return head + 'x'.repeat(size - head.length - tail.length) + tail;
};

const headerMap = (headers: Record<string, string>): HeaderMap => new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), [v]]));

/** Raw node:crypto: HMAC over the same signed bytes plus a constant-time compare. */
const rawCase = (key: Buffer, prefix: string, body: Buffer, expected: Buffer): Case => ({
  name: 'node:crypto',
  run: () => {
    const mac = createHmac('sha256', key).update(prefix).update(body).digest();
    return mac.length === expected.length && timingSafeEqual(mac, expected);
  },
});

const casesFor = (schemeName: string, size: number): { cases: Case[]; ours: string } => {
  const scheme: SignatureScheme = resolveScheme(schemeName, schemeName === 'hmac' ? HMAC_OPTIONS : undefined);
  const secret = SECRETS[schemeName] as string;
  const text = bodyOf(size);
  const body = Buffer.from(text);
  const now = Math.floor(Date.now() / 1000);
  const headers = scheme.sign(secret, { body, id: 'msg_bench', timestampSeconds: now });
  const map = headerMap(headers);
  const keys = [scheme.decodeSecret(secret)];
  const key = keys[0] as Buffer;
  const cases: Case[] = [
    {
      name: 'hookwarden',
      run: () => {
        if (!scheme.verify({ headers: map, body }, keys, { nowSeconds: now, maxAgeSeconds: 300 }).ok) throw new Error('bench fixture does not verify');
      },
    },
  ];
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  switch (schemeName) {
    case 'standard-webhooks': {
      const sw = new StandardWebhook(secret);
      const svix = new SvixWebhook(secret);
      const svixHeaders = { 'svix-id': lower['webhook-id'] as string, 'svix-timestamp': lower['webhook-timestamp'] as string, 'svix-signature': lower['webhook-signature'] as string };
      cases.push({ name: 'standardwebhooks', run: () => sw.verify(text, lower) }, { name: 'svix', run: () => svix.verify(text, svixHeaders) });
      cases.push(rawCase(key, `msg_bench.${now}.`, body, Buffer.from((lower['webhook-signature'] as string).slice(3), 'base64')));
      break;
    }
    case 'stripe': {
      const sdk = new Stripe('sk_test_bench');
      const header = lower['stripe-signature'] as string;
      cases.push({ name: 'stripe', run: () => sdk.webhooks.constructEvent(text, header, secret) });
      cases.push(rawCase(key, `${now}.`, body, Buffer.from(header.split('v1=')[1] as string, 'hex')));
      break;
    }
    case 'github': {
      const signature = lower['x-hub-signature-256'] as string;
      cases.push({ name: '@octokit/webhooks-methods', run: () => octokitVerify(secret, text, signature) });
      cases.push(rawCase(key, '', body, Buffer.from(signature.slice(7), 'hex')));
      break;
    }
    case 'slack':
      cases.push(rawCase(key, `v0:${now}:`, body, Buffer.from((lower['x-slack-signature'] as string).slice(3), 'hex')));
      break;
    case 'shopify':
      cases.push(rawCase(key, '', body, Buffer.from(lower['x-shopify-hmac-sha256'] as string, 'base64')));
      break;
    case 'hmac':
      cases.push(rawCase(key, `${now}.`, body, Buffer.from((lower['x-signature'] as string).slice(7), 'hex')));
      break;
  }
  return { cases, ours: 'hookwarden' };
};

/** Runs the verification benchmark and prints one row per scheme and size. */
export const verifyBenchmark = async (): Promise<void> => {
  print('## Signature verification (ops/s, median of 5 interleaved rounds; ratios within this process)');
  print('');
  print('| scheme | body | hookwarden | fastest peer | node:crypto | ours ÷ raw | ours ÷ fastest peer |');
  print('|---|---|---|---|---|---|---|');
  for (const schemeName of ['standard-webhooks', 'stripe', 'github', 'slack', 'shopify', 'hmac']) {
    for (const size of [1024, 64 * 1024]) {
      const { cases } = casesFor(schemeName, size);
      const results = await measure(cases);
      const ours = results.get('hookwarden') as number;
      const raw = results.get('node:crypto') as number;
      const peers = [...results].filter(([name]) => name !== 'hookwarden' && name !== 'node:crypto');
      const fastest = peers.sort((a, b) => b[1] - a[1])[0];
      print(
        `| ${schemeName} | ${size / 1024} KiB | ${ops(ours)} | ${fastest ? `${ops(fastest[1])} (${fastest[0]})` : '- (none)'} | ${ops(raw)} | ${(ours / raw).toFixed(2)} | ${fastest ? (ours / fastest[1]).toFixed(2) : '-'} |`,
      );
    }
  }
  print('');
};
