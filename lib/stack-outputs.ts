import { SOURCE_NAME } from '../core/config/rules.js';

/**
 * The CloudFormation outputs of a Hookwarden stack: the stack creates them
 * under these keys and the `hookwarden` CLI finds them by the same keys (never
 * by their descriptions, which are for people). No CDK import: the CLI loads this.
 */
export const STACK_OUTPUT = {
  apiUrl: 'ApiUrl',
  deliveriesTable: 'DeliveriesTableName',
  rateLimitsTable: 'RateLimitsTableName',
  tokensTable: 'TokensTableName',
  alarmTopic: 'AlarmTopicArn',
  blockedIpv4Set: 'BlockedIpv4SetArn',
  blockedIpv6Set: 'BlockedIpv6SetArn',
  /** `http-api` on a stack whose front door is an HTTP API (it serves no deliveries API); absent on a REST stack. */
  frontDoor: 'FrontDoor',
} as const;

/** The value of the {@link STACK_OUTPUT} `frontDoor` output on an HTTP API stack. */
export const HTTP_API_FRONT_DOOR = 'http-api';

/** Prefixes of the outputs a stack has once per source. */
const PER_SOURCE = {
  webhookUrl: 'WebhookUrl',
  secretArn: 'SecretArn',
} as const;

/** An output the stack has once. */
export type StackOutput = keyof typeof STACK_OUTPUT;
/** An output the stack has once per source. */
export type SourceOutput = keyof typeof PER_SOURCE;

// Output keys allow letters and digits only. Source names are lower-case letters, digits, `-` and
// `_`, so spelling the two punctuation marks as capitals keeps the key one-to-one with the name
// ("a-b" and "ab" stay apart) and lets the CLI read the name back without the source list.
const ENCODE: Readonly<Record<string, string>> = { '-': 'D', _: 'U' };
const DECODE: Readonly<Record<string, string>> = { D: '-', U: '_' };

/**
 * The key of one output of a Hookwarden stack.
 * @example outputKey('rateLimitsTable') // 'RateLimitsTableName'
 * @example outputKey('secretArn', 'billing-eu') // 'SecretArnbillingDeu'
 */
export function outputKey(output: StackOutput): string;
export function outputKey(output: SourceOutput, source: string): string;
export function outputKey(output: StackOutput | SourceOutput, source?: string): string {
  if (output === 'webhookUrl' || output === 'secretArn') {
    if (source === undefined || !SOURCE_NAME.test(source)) throw new Error(`not a source name: ${JSON.stringify(source)}`);
    return `${PER_SOURCE[output]}${source.replace(/[-_]/g, (mark) => ENCODE[mark] as string)}`;
  }
  return STACK_OUTPUT[output];
}

/**
 * The source a per-source output key names, or undefined when `key` is not a
 * `output` key (the inverse of {@link outputKey}).
 * @example sourceOfOutputKey('webhookUrl', 'WebhookUrlbillingDeu') // 'billing-eu'
 */
export const sourceOfOutputKey = (output: SourceOutput, key: string): string | undefined => {
  const prefix = PER_SOURCE[output];
  if (!key.startsWith(prefix)) return undefined;
  const source = key.slice(prefix.length).replace(/[DU]/g, (mark) => DECODE[mark] as string);
  return SOURCE_NAME.test(source) && outputKey(output, source) === key ? source : undefined;
};
