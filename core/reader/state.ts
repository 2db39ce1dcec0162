import type { Context } from 'aws-lambda';
import type { TokenRecord } from '../stores/token-store.js';

/** What the deliveries API's middlewares learn about a request. */
export interface ReaderState {
  /** The bearer token's record, set by readToken. */
  token?: TokenRecord;
  /**
   * Whether the bearer token is still live (not revoked, not expired), through the token cache;
   * set by readToken, so a long answer (the event stream) can stop when it no longer is.
   */
  tokenLive?: () => Promise<boolean>;
}

const states = new WeakMap<object, ReaderState>();

/** The reader state of the request this Lambda context belongs to, created on first use. */
export const readerStateOf = (context: Context | object): ReaderState => {
  let state = states.get(context);
  if (!state) {
    state = {};
    states.set(context, state);
  }
  return state;
};
