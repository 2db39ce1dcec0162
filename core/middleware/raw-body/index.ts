import type { SourceConfig } from '../../config/index.js';
import { HttpError } from '../../errors.js';
import { MAX_BODY_LIMIT } from '../../config/rules.js';
import { requireWholeNumbers, stateOf, withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';

/** Options of {@link rawBody}. */
export interface RawBodyOptions {
  /** Used when no source is resolved. @default 1048576 */
  readonly defaultMaxBytes?: number;
}

const defaults: Required<RawBodyOptions> = { defaultMaxBytes: 1024 * 1024 };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Recovers the raw body bytes exactly as sent (`isBase64Encoded` honoured) and
 * enforces the source's size limit: 413 `payload_too_large`. A body another
 * middleware already parsed (an object, not text) fails the request (500), the log naming the cause.
 */
export const rawBody = (opts: RawBodyOptions = {}): HttpMiddleware => {
  requireWholeNumbers('rawBody', opts, { defaultMaxBytes: [1, MAX_BODY_LIMIT] });
  const { defaultMaxBytes } = withDefaults(defaults, opts);
  const rawBodyBefore = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    const limit = (state.source as SourceConfig | undefined)?.maxBodyBytes ?? defaultMaxBytes;
    const sent: unknown = request.event.body;
    if (sent !== null && sent !== undefined && typeof sent !== 'string') throw replacedBody(sent);
    const text = sent ?? '';
    // Refuse before decoding: UTF-8 needs at least one byte per UTF-16 unit; base64 yields 3 bytes per 4 chars.
    const leastBytes = request.event.isBase64Encoded ? Math.floor((text.length * 3) / 4) - 2 : text.length;
    if (leastBytes > limit) throw tooLarge(limit);
    let body: Buffer;
    if (request.event.isBase64Encoded) {
      if (text.length % 4 !== 0 || !BASE64.test(text)) throw new HttpError(400, 'body_invalid', 'The body is not valid base64.');
      body = Buffer.from(text, 'base64');
    } else {
      body = Buffer.from(text, 'utf8');
    }
    if (body.length > limit) throw tooLarge(limit);
    state.body = body;
  };
  return { before: rawBodyBefore };
};

/** A body that is no longer the text API Gateway sent: the signature could not be checked over the bytes sent. */
const replacedBody = (body: unknown): Error =>
  new Error(
    `rawBody: event.body is ${Array.isArray(body) ? 'an array' : typeof body === 'object' ? 'an object' : `a ${typeof body}`}, not the text API Gateway sends: ` +
      "a middleware that runs before Hookwarden's (a JSON body parser, say) replaced it. Use Hookwarden's middlewares first and read " +
      'the verified bytes from context.hookwarden.body',
  );

/** The 413 of a body over `limit` bytes (also the signature verifier's, for a body read before its source was known). */
export const tooLarge = (limit: number): HttpError =>
  new HttpError(413, 'payload_too_large', `The body exceeds ${limit} bytes.`, { details: { limitBytes: limit } });
