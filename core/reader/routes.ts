import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { SOURCE_NAME } from '../config/rules.js';
import { HttpError } from '../errors.js';
import { singleValue } from '../headers.js';
import { requireScope } from '../middleware/read-token/index.js';
import type { HttpHandler } from '../pipeline.js';
import { jsonResponse } from '../responses.js';
import { decodeCursor, encodeCursor, newestReadsAtMost, type FeedEntry } from '../stores/delivery-feed.js';
import { answeredByDeadline } from '../deadline.js';
import { READER_DEADLINE } from './deadline.js';
import { readerLateAnswer, readerMiddlewares, readerPreflight, type ReaderDependencies } from './pipeline.js';
import { readerStateOf } from './state.js';

/** `GET /deliveries`: how many per page, by default and at most. */
export const LIST_LIMIT = { default: 50, max: 100 } as const;

const badRequest = (code: string, message: string): HttpError => new HttpError(400, code, message);

/** What a `?source=` naming no configured source gets, where nothing stored could answer it instead. */
const sourceUnknown = (): HttpError => new HttpError(404, 'source_unknown', 'No source of that name is configured.');

/**
 * The one value of a query parameter, `undefined` when absent. Given more than once with different values (in
 * `multiValueQueryStringParameters`, or there and in `queryStringParameters` apart), it is refused as
 * 400 `<name>_invalid`: API Gateway keeps the last value, so `?source=a&source=b` read only `b`, in silence.
 */
const queryValue = (event: APIGatewayProxyEvent, name: 'source' | 'limit' | 'cursor'): string | undefined => {
  const values = [...(event.multiValueQueryStringParameters?.[name] ?? [])];
  const single = event.queryStringParameters?.[name];
  if (single !== undefined) values.push(single);
  const value = singleValue(values);
  if (value === null) throw badRequest(`${name}_invalid`, `${name} is given more than once.`);
  return value;
};

/**
 * `?source=` checked: a source name the token covers, or `undefined` for every source the token covers. The scope
 * comes first, so that a scoped token learns nothing of the other sources' names.
 */
export const sourcesAsked = (event: APIGatewayProxyEvent, tokenSources: readonly string[]): readonly string[] => {
  const source = queryValue(event, 'source');
  if (source === undefined) return tokenSources;
  if (!SOURCE_NAME.test(source)) throw badRequest('source_invalid', 'source must be a source name.');
  requireScope(tokenSources, source);
  return [source];
};

/** Whether `?source=` names a source the configuration no longer (or never) had. */
const unconfiguredSourceAsked = (event: APIGatewayProxyEvent, deps: Pick<ReaderDependencies, 'config'>): boolean => {
  const source = queryValue(event, 'source');
  return source !== undefined && !deps.config.sources.has(source);
};

/**
 * `GET /events?source=` for a source that is not configured: no delivery can ever arrive for it, so a stream on it
 * (a typo) would wait in silence until it ends. Refused as 404 `source_unknown` instead.
 */
export const requireConfiguredSource = (event: APIGatewayProxyEvent, deps: Pick<ReaderDependencies, 'config'>): void => {
  if (unconfiguredSourceAsked(event, deps)) throw sourceUnknown();
};

const summary = (entry: FeedEntry) => ({
  source: entry.source,
  id: entry.deliveryId,
  receivedAt: new Date(entry.receivedAt).toISOString(),
  eventType: entry.eventType ?? null,
  size: entry.size,
});

/** A delivery as the list and the stream show it. */
export const deliverySummary = summary;

/** Whether the bytes are UTF-8 text (a round trip that changes them means they were not). */
const isUtf8 = (body: Buffer): boolean => Buffer.from(body.toString('utf8'), 'utf8').equals(body);

/**
 * Lambda's limit on a function's answer (6 MB: the proxy result serialized, where the body, itself JSON, is escaped
 * again), less room for the rest of it. Past it the answer never reaches the client (API Gateway's 502).
 */
const ANSWER_MAX_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/**
 * What `GET /deliveries/{source}/{id}` answers for a body that does not fit Lambda's answer even as base64 (over about
 * 4.5 MiB, with `maxBodyBytes` raised): before, a 200 that Lambda does not return (API Gateway's 502, on every read).
 * The size is the list's `size` already; the message says where the body can be read instead.
 */
const bodyTooLarge = (bytes: number): HttpError =>
  new HttpError(
    413,
    'body_too_large',
    `The body (${bytes} bytes) is too large for one answer of this API: Lambda returns at most 6 MB, and base64 takes 4 bytes for 3. ` +
      'Read it from the deliveries table instead (locally: hookwarden deliveries show <source> <id> --body).',
  );

/**
 * Refuses, from its record's size, a body larger than any answer (text takes a byte a byte at least): its parts, up to
 * 10 MiB of them, were read and charged to the token to be answered 413.
 * @throws HttpError 413 `body_too_large`
 */
const refuseLargerThanAnswer = (bodyBytes: number): void => {
  if (bodyBytes > ANSWER_MAX_BYTES) throw bodyTooLarge(bodyBytes);
};

/**
 * A body as the JSON answer carries it, in at most `room` bytes of the result Lambda serializes: UTF-8 text, unless
 * that is not what the bytes are, or escapes would take it past that room; then base64, unless that does not fit
 * either (413 `body_too_large`). A control character is six bytes in the answer's JSON (`\u0001`) and seven in the
 * result Lambda serializes: a signed body of them within the default 1 MiB limit was over Lambda's 6,291,456 bytes
 * as text, 1.4 MB as base64. A byte is at most seven bytes there, so only a body past a seventh of the room is measured.
 */
const bodyField = (body: Buffer, room: number): { body: string; bodyEncoding?: 'base64' } => {
  if (isUtf8(body)) {
    const text = body.toString('utf8');
    if (body.length * 7 <= room || Buffer.byteLength(JSON.stringify(JSON.stringify(text)), 'utf8') <= room) return { body: text };
  }
  // Base64 needs no escape, in either JSON: its length is what it takes, with the field's name and quotes.
  if (4 * Math.ceil(body.length / 3) + 64 > room) throw bodyTooLarge(body.length);
  return { body: body.toString('base64'), bodyEncoding: 'base64' };
};

/**
 * `GET /deliveries?source&limit&cursor` (newest first, `next` an opaque cursor
 * or null) and `GET /deliveries/{source}/{id}` (kept headers and the body, as
 * UTF-8 text or base64 with `bodyEncoding`), behind the reader pipeline, each
 * answered within `settings.requestBudgetMs` (less when the Lambda context has
 * less time left): 503 `unavailable` with `Retry-After` when the store is too slow. Both draw on the token's
 * read budget (`settings.readBudget`, in read units: a list one per index item, a single delivery one per 4 KB of its
 * record and of its body's parts when read): spent,
 * 429 `rate_limited` with `Retry-After` (policy `"reads"`).
 */
export const createDeliveriesHandler = (deps: ReaderDependencies): HttpHandler => {
  const now = deps.now ?? Date.now;

  const list = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const token = readerStateOf(context).token;
    const sources = sourcesAsked(event, token?.sources ?? []);
    const query = { limit: queryValue(event, 'limit'), cursor: queryValue(event, 'cursor') };
    let limit: number = LIST_LIMIT.default;
    if (query.limit !== undefined) {
      limit = /^\d{1,3}$/.test(query.limit) ? Number(query.limit) : 0;
      if (limit < 1 || limit > LIST_LIMIT.max)
        throw badRequest('limit_invalid', `limit must be a whole number from 1 to ${LIST_LIMIT.max}.`);
    }
    let before: string | undefined;
    if (query.cursor !== undefined) {
      before = decodeCursor(query.cursor);
      if (before === undefined) throw badRequest('cursor_invalid', 'cursor is not one this API gave out.');
    }
    // What it may read is charged to the token's read budget first (429 when spent); what it did not read goes back.
    const budget = token && deps.readBudget ? deps.readBudget.forToken(token.id) : undefined;
    const granted = budget ? await budget.take(newestReadsAtMost(limit)) : undefined;
    const page = await deps.feed.newest({
      sources,
      limit,
      nowSeconds: Math.floor(now() / 1000),
      ...(before === undefined ? {} : { before }),
      ...(granted === undefined ? {} : { maxItems: granted }),
    });
    if (granted !== undefined) budget?.giveBack(granted - page.read);
    // A source taken out of the configuration still lists what it stored until that expires; a name with neither is a typo.
    if (page.entries.length === 0 && before === undefined && unconfiguredSourceAsked(event, deps)) throw sourceUnknown();
    return jsonResponse(200, { deliveries: page.entries.map(summary), next: page.next === undefined ? null : encodeCursor(page.next) });
  };

  const get = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const token = readerStateOf(context).token;
    const source = event.pathParameters?.source ?? '';
    const id = event.pathParameters?.id ?? '';
    // Bytes, not characters: DynamoDB refuses a key over 2,048 bytes (a ValidationException, so a 500), and 1,024
    // characters of '€' are 3,072 bytes. Every stored id is at most 256 printable ASCII characters.
    if (!SOURCE_NAME.test(source) || id.length === 0 || Buffer.byteLength(id, 'utf8') > 1024)
      throw new HttpError(404, 'not_found', 'Not found.');
    requireScope(token?.sources ?? [], source);
    // Charged to the token's read budget like a list, after every refusal above (which costs no read) and before each
    // read the store makes, in read units (one per 4 KB): the record at the most an item costs (its size is known once
    // read), then a large body's parts at the most each costs; what they did not cost is handed back. Spent, 429
    // policy "reads". Counted one per item, a multi-MiB body's parts of up to 93 units each were one each.
    const budget = token && deps.readBudget ? deps.readBudget.forToken(token.id) : undefined;
    const delivery = await deps.store.get(source, id, Math.floor(now() / 1000), {
      ...(budget ? budget.wholeRead() : {}),
      beforeParts: refuseLargerThanAnswer,
    });
    if (!delivery || delivery.status !== 'stored') throw new HttpError(404, 'not_found', 'No such delivery.');
    const answer = {
      source: delivery.source,
      id: delivery.deliveryId,
      receivedAt: new Date(delivery.receivedAt).toISOString(),
      eventType: delivery.eventType ?? null,
      headers: delivery.headers,
    };
    // The rest of the answer as Lambda serializes it (its JSON escaped again) takes its share of the limit.
    const rest = Buffer.byteLength(JSON.stringify(JSON.stringify(answer)), 'utf8');
    return jsonResponse(200, { ...answer, ...bodyField(delivery.body, ANSWER_MAX_BYTES - rest) });
  };

  const route = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    if (event.httpMethod !== 'GET')
      throw new HttpError(405, 'method_not_allowed', 'Only GET is accepted here.', { headers: { Allow: 'GET, OPTIONS' } });
    return event.resource === '/deliveries' ? list(event, context) : get(event, context);
  };
  // Middy's own early timeout (5 ms before the end, a 500) is off: the deadline below answers long before it.
  const reader = middy(route, { timeoutEarlyInMillis: 0 }).use(readerMiddlewares(deps)) as unknown as HttpHandler;
  const preflight = readerPreflight(deps);
  const late = readerLateAnswer(deps);
  // One deadline for the token lookup, the per-token count and the read, one after another: at it, every
  // DynamoDB call still running is aborted and the request answers 503 `unavailable` as for any store failure.
  const answered = answeredByDeadline(deps.settings.requestBudgetMs, READER_DEADLINE, reader, late);
  return (event, context) => (event.httpMethod === 'OPTIONS' ? preflight(event, context) : answered(event, context));
};
