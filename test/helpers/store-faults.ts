import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** What {@link failRequests} has done so far. */
export interface FailedRequests {
  /** Attempts refused so far (the SDK's retries included). */
  readonly failed: () => number;
  /** Refuse the next `times` attempts (again). */
  readonly arm: (times: number) => void;
}

/** A throttled request as DynamoDB answers it (HTTP 400, retried by the SDK). */
export const throttled = (): Error =>
  Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded.'), {
    name: 'ProvisionedThroughputExceededException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

/** An attempt that got no answer in time, as the SDK's HTTP handler ends it (`throwOnRequestTimeout`, core/aws-client-settings.ts). */
export const timedOut = (): Error =>
  Object.assign(new Error('@smithy/node-http-handler - [ERROR] a request has exceeded the configured 3000 ms requestTimeout.'), {
    name: 'TimeoutError',
    code: 'ETIMEDOUT',
  });

/**
 * Refuses the next `times` attempts of `command` (e.g. `QueryCommand`) that `when` picks, before they reach the
 * store, with `error()` (default: throttled). Sits inside the SDK's retry loop, as a fault on the wire does: a fault
 * shorter than the client's attempts is retried away, a longer one reaches the caller.
 */
export const failRequests = (
  client: DynamoDBClient,
  command: string,
  options: { readonly times?: number; readonly error?: () => Error; readonly when?: (input: Record<string, unknown>) => boolean } = {},
): FailedRequests => {
  let remaining = options.times ?? 0;
  let failed = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== command || remaining <= 0 || !(options.when?.(args.input as Record<string, unknown>) ?? true))
        return next(args);
      remaining -= 1;
      failed += 1;
      throw (options.error ?? throttled)();
    },
    { step: 'deserialize', name: `failRequests:${command}:${Math.random()}` },
  );
  return { failed: () => failed, arm: (times) => (remaining = times) };
};
