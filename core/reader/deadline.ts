import { deadlineShares, type DeadlineShares } from '../deadline.js';

/**
 * The reader function's timeout (`GET /deliveries`, `GET /deliveries/{source}/{id}`, the preflights):
 * lib/constructs/deliveries-api.ts sets it from here, and the request deadline below is derived from it.
 */
export const READER_TIMEOUT_SECONDS = 10;

/**
 * How a reader request's time is shared out, all derived from {@link READER_TIMEOUT_SECONDS}:
 * at `budgetMs` every DynamoDB call of the request is aborted (the 503 `unavailable` follows at once);
 * `lateAnswerMs` after that, a request still running anyway is answered 503 without it. `marginMs` is
 * always left between the deadline and the function's end (the deadline comes sooner when a Lambda
 * context has less than `budgetMs + marginMs` left), for the answer, its log line and the metrics flush.
 * The mechanism is core/deadline.ts, shared with the webhook route.
 */
export const READER_DEADLINE: DeadlineShares = deadlineShares(READER_TIMEOUT_SECONDS);
