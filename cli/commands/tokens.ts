import { SOURCE_NAME } from '../../core/config/rules.js';
import { StoreUnavailableError } from '../../core/errors.js';
import { TOKENS_TABLE, tableName } from '../../core/stores/tables.js';
import {
  DynamoDbTokenStore,
  generateToken,
  TOKEN_ID,
  tokenLive,
  TOKEN_SOURCES_MAX,
  type TokenRecord,
  type TokenStore,
} from '../../core/stores/token-store.js';
import { outputKey, sourceOfOutputKey } from '../../lib/stack-outputs.js';
import { CommandFailed, UsageError, type CliContext } from '../context.js';
import { output } from '../output.js';
import { terminalSafe } from '../terminal.js';
import { defaultAwsClients, readStack, unavailableTable, withLocalStore, type AwsClients } from '../targets.js';

const DURATION = /^(\d{1,6})(s|m|h|d)$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const TAKES_EFFECT = 'takes effect within 30 s (functions cache a token lookup for 15 s)';

/** Parses `--ttl`: `90m`, `24h`, `30d` (1 minute to 366 days). */
export const parseTtl = (text: string): number => {
  const match = DURATION.exec(text.trim());
  const seconds = match ? Number(match[1]) * SECONDS[match[2] as keyof typeof SECONDS] : 0;
  if (seconds < 60 || seconds > 366 * 86_400)
    throw new UsageError(`--ttl "${text}": expected a duration like 90m, 24h or 30d (1m to 366d)`);
  return seconds;
};

/** Where the token commands act: the tokens table, the known sources, a label. */
interface TokenTarget {
  readonly tokens: TokenStore;
  /** The tokens table's name. */
  readonly table: string;
  readonly sources: ReadonlySet<string>;
  readonly where: string;
}

/**
 * Runs `work` against the local store, or with `--stack` against a deployed stack's tokens table; a
 * throttled or unreachable table is named, as the containment commands name theirs.
 */
const withTokenTarget = async <T>(
  context: CliContext,
  stack: string | undefined,
  work: (target: TokenTarget) => Promise<T>,
  aws: AwsClients = defaultAwsClients,
): Promise<T> => {
  if (!stack) {
    const table = tableName(TOKENS_TABLE, context.env);
    return withLocalStore(context, async (client, local) => {
      try {
        return await work({ tokens: new DynamoDbTokenStore({ client, tableName: table }), table, ...local });
      } catch (error) {
        throw unavailableTable(error, table);
      }
    });
  }
  const { outputs, region } = await readStack(aws, stack);
  const table = outputs.get(outputKey('tokensTable'));
  if (!table)
    throw new CommandFailed(`stack ${stack} has no ${outputKey('tokensTable')} output: is it a Hookwarden stack with the deliveries API?`);
  const client = aws.dynamodb(region);
  try {
    return await work({
      tokens: new DynamoDbTokenStore({ client, tableName: table }),
      table,
      sources: new Set([...outputs.keys()].flatMap((key) => sourceOfOutputKey('webhookUrl', key) ?? [])),
      where: `stack ${stack}`,
    });
  } catch (error) {
    throw unavailableTable(error, table);
  } finally {
    client.destroy();
  }
};

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

const statusOf = (record: TokenRecord, nowSeconds: number): string =>
  record.revokedAt !== undefined
    ? 'revoked'
    : record.malformed !== undefined
      ? 'unreadable'
      : tokenLive(record, nowSeconds)
        ? 'active'
        : 'expired';

const asJson = (record: TokenRecord, nowSeconds: number) => ({
  id: record.id,
  name: record.name,
  sources: record.sources,
  createdAt: iso(record.createdAt),
  expiresAt: iso(record.expiresAt),
  lastUsedAt: record.lastUsedAt === undefined ? null : iso(record.lastUsedAt),
  revokedAt: record.revokedAt === undefined ? null : iso(record.revokedAt),
  status: statusOf(record, nowSeconds),
});

/** Options of `hookwarden token create`. */
export interface TokenCreateOptions {
  name: string;
  ttl: string;
  sources?: string;
  stack?: string;
  json?: boolean;
}

/** Options shared by `token list` and `token revoke`. */
export interface TokenTargetOptions {
  stack?: string;
  json?: boolean;
}

/**
 * `hookwarden token create --name <label> [--ttl 30d] [--sources a,b]`: prints
 * the new token once (standard output; the rest on standard error); only its
 * hash is stored.
 */
export const tokenCreateCommand = async (context: CliContext, options: TokenCreateOptions, aws?: AwsClients): Promise<number> => {
  const name = options.name.trim();
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (name.length === 0 || name.length > 64 || /[\u0000-\u001f\u007f-\u009f]/.test(name))
    throw new UsageError('--name: 1 to 64 printable characters');
  const ttlSeconds = parseTtl(options.ttl);
  const sources = (options.sources ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // No sources stored means every source: an empty --sources must not widen the token it meant to narrow.
  if (options.sources !== undefined && sources.length === 0)
    throw new UsageError('--sources: name at least one source (leave --sources out for a token that reads every source)');
  for (const source of sources) if (!SOURCE_NAME.test(source)) throw new UsageError(`--sources: "${source}" is not a source name`);
  if (new Set(sources).size > TOKEN_SOURCES_MAX)
    throw new UsageError(
      `--sources: ${new Set(sources).size} sources; a token names at most ${TOKEN_SOURCES_MAX} (its reads filter on them in one DynamoDB expression, at most 4 KB): leave --sources out for every source, or make several tokens`,
    );
  return withTokenTarget(
    context,
    options.stack,
    async (target) => {
      const unknown = sources.filter((s) => target.sources.size > 0 && !target.sources.has(s));
      if (unknown.length > 0)
        throw new UsageError(
          `--sources: unknown source ${unknown.map((s) => `"${s}"`).join(', ')} in ${target.where} (configured: ${[...target.sources].join(', ')})`,
        );
      const now = Math.floor(Date.now() / 1000);
      const { token, id, hash } = generateToken();
      const record: TokenRecord = { id, name, sources: [...new Set(sources)], createdAt: now, expiresAt: now + ttlSeconds };
      try {
        await target.tokens.create(record, hash);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        // The store read back what it could and found nothing: the token may still have been written, by an attempt
        // whose answer was lost. No one can use it (its secret is shown nowhere), but it should not linger.
        throw new CommandFailed(
          `${(unavailableTable(error, target.table) as Error).message}; if \`hookwarden token list${options.stack ? ` --stack ${options.stack}` : ''}\` shows token ${id}, it was made but cannot be shown: revoke it`,
          { cause: error },
        );
      }
      if (options.json) {
        output.json({ ...asJson(record, now), token });
        return 0;
      }
      output.line(token);
      output.error(
        terminalSafe(
          `created read token ${id} "${name}" for ${record.sources.length ? `sources ${record.sources.join(', ')}` : 'every source'} until ${iso(record.expiresAt)} in ${target.where}; it is shown only this once (only its hash is stored)`,
        ),
      );
      return 0;
    },
    aws,
  );
};

/** `hookwarden token list`: every token with its status (never the token itself: it is not stored). */
export const tokenListCommand = async (context: CliContext, options: TokenTargetOptions, aws?: AwsClients): Promise<number> =>
  withTokenTarget(
    context,
    options.stack,
    async (target) => {
      const now = Math.floor(Date.now() / 1000);
      const records = await target.tokens.list();
      if (options.json) {
        output.json(records.map((r) => asJson(r, now)));
        return 0;
      }
      if (records.length === 0) output.line(`no read tokens in ${target.where}`);
      for (const r of records) {
        const used = r.lastUsedAt === undefined ? 'never used' : `last used ${iso(r.lastUsedAt)}`;
        output.line(
          terminalSafe(
            `${r.id}  ${r.name}  ${r.malformed ? '?' : r.sources.length ? r.sources.join(',') : '*'}  expires ${iso(r.expiresAt)}  ${used}  ${statusOf(r, now)}`,
          ),
        );
      }
      return 0;
    },
    aws,
  );

/** `hookwarden token revoke <id>`: refused from then on (within 30 s everywhere). */
export const tokenRevokeCommand = async (
  context: CliContext,
  given: string,
  options: TokenTargetOptions,
  aws?: AwsClients,
): Promise<number> => {
  if (!TOKEN_ID.test(given.toLowerCase()))
    throw new UsageError(`"${terminalSafe(given)}" is not a token id (16 hex digits, as token list shows)`);
  // Hex in either case names the same token (copied from a tool that upper-cases it); the store keeps lower case.
  const id = given.toLowerCase();
  return withTokenTarget(
    context,
    options.stack,
    async (target) => {
      const revoked = await target.tokens.revoke(id, Math.floor(Date.now() / 1000));
      if (!revoked) throw new CommandFailed(`no active token ${id} in ${target.where} (see hookwarden token list)`);
      if (options.json) output.json({ id, revoked: true, where: target.where });
      else output.line(`revoked token ${id} in ${target.where}; ${TAKES_EFFECT}`);
      return 0;
    },
    aws,
  );
};
