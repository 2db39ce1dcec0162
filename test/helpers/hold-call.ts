import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';

/** A call held before it is sent: `reached` once it is waiting, `release()` sends it. */
export interface HeldCall {
  readonly reached: Promise<void>;
  release(): void;
}

/**
 * Holds a client's `nth` call of `command` (`UpdateIPSetCommand`, `UpdateItemCommand`) before it
 * is sent, until released: two commands interleave in the order a test chooses, not by timing.
 */
export const holdCall = (client: WAFV2Client | DynamoDBClient, command: string, nth = 1): HeldCall => {
  let seen = 0;
  let reached!: () => void;
  let release!: () => void;
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && ++seen === nth) {
        reached();
        await released;
      }
      return next(args);
    },
    { step: 'initialize', name: `holdCall:${command}:${nth}:${Math.random()}` },
  );
  return { reached: reachedPromise, release };
};
