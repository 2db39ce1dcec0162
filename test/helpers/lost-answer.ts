import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';

/** What {@link dropAnswers} has done so far. */
export interface DroppedAnswers {
  /** Answers dropped after the store applied the request. */
  readonly dropped: () => number;
  /** Attempts of the matching command that reached the store, retries included. */
  readonly attempts: () => number;
}

/**
 * The network drops the answer to the first attempt of the next `times` requests
 * of `command` (e.g. `UpdateItemCommand`) after the store has applied it: the
 * SDK sees a reset connection and sends the same request again, as it does in
 * AWS (the request path's client makes up to 3 attempts; a request timing out
 * after the write landed looks the same). `when` picks which requests qualify
 * (default: all); `between` runs after the store applied the request and before
 * the retry (another writer in the gap).
 */
export const dropAnswers = (
  client: DynamoDBClient,
  command: string,
  options: {
    readonly times?: number;
    readonly when?: (input: Record<string, unknown>) => boolean;
    readonly between?: () => Promise<unknown>;
  } = {},
): DroppedAnswers => {
  let dropped = 0;
  let attempts = 0;
  // One SDK call keeps its context across its attempts: only its first attempt loses its answer.
  const seen = new WeakSet<object>();
  const times = options.times ?? 1;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== command) return next(args);
      attempts += 1;
      const first = !seen.has(context);
      seen.add(context);
      const result = await next(args);
      if (first && dropped < times && (options.when?.(args.input as Record<string, unknown>) ?? true)) {
        dropped += 1;
        await options.between?.();
        throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
      }
      return result;
    },
    // Inside the retry loop (finalizeRequest), around the sending and parsing of one attempt.
    { step: 'deserialize', name: `dropAnswers:${command}:${Math.random()}` },
  );
  return { dropped: () => dropped, attempts: () => attempts };
};

/**
 * One dynalite store for a describe block, and clients of the request path's
 * kind (3 attempts) to inject faults into: `client()` makes a fresh one, and
 * every client made during a test is destroyed after it. `local()` is the store
 * (its own client stays honest).
 */
export const storeForFaults = (): { readonly local: () => LocalStore; readonly client: () => DynamoDBClient } => {
  let local: LocalStore | undefined;
  const made: DynamoDBClient[] = [];
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterEach(() => {
    for (const client of made.splice(0)) client.destroy();
  });
  afterAll(() => local?.close());
  const started = (): LocalStore => {
    if (!local) throw new Error('storeForFaults: the store starts in beforeAll');
    return local;
  };
  return {
    local: started,
    client: () => {
      const client = createDynamoDbClient({ endpoint: started().endpoint, region: 'local' });
      made.push(client);
      return client;
    },
  };
};
