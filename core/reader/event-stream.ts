import { Readable } from 'node:stream';
import { boundWithin, seqCeiling, seqFloor, type DeliveryFeed, type FeedPage } from '../stores/delivery-feed.js';
import type { Telemetry } from '../telemetry.js';
import type { DeliveryNotifier } from './pipeline.js';
import { ReadBudgetSpentError, type TokenReadBudget } from './read-budget.js';
import { deliverySummary } from './routes.js';
import type { ReaderSettings } from './settings.js';
import { aheadOfClock, boundMs, encodeStreamId, SentWindow, type StreamPosition } from './stream-position.js';

/** Items one index query of a stream reads at most (before filtering). */
export const STREAM_PAGE_ITEMS = 500;
/** An open stream reads its whole window again at most every this many polls... */
const SWEEP_POLLS = 5;
/** ...and at least this many times per look-back, so a late delivery has that many chances inside its window. */
const SWEEP_SHARE = 6;

/** One index read of at most {@link STREAM_PAGE_ITEMS} items, fewer when that is what the token's read budget has left. */
const budgetedBetween = async (
  feed: DeliveryFeed,
  budget: TokenReadBudget | undefined,
  filter: Omit<Parameters<DeliveryFeed['between']>[0], 'limit'>,
): Promise<FeedPage> => {
  const limit = budget ? await budget.take(STREAM_PAGE_ITEMS) : STREAM_PAGE_ITEMS;
  const page = await feed.between({ ...filter, limit });
  budget?.giveBack(limit - page.read);
  return page;
};

/** Every sort key the index holds in (`after`, `upTo`], oldest first. */
const keysBetween = async (
  feed: DeliveryFeed,
  budget: TokenReadBudget | undefined,
  sources: readonly string[],
  after: string,
  upTo: string,
  nowMs: number,
): Promise<string[]> => {
  const keys: string[] = [];
  for (let from: string | undefined = after; from !== undefined;) {
    const page = await budgetedBetween(feed, budget, { sources, after: from, upTo, nowSeconds: Math.floor(nowMs / 1000) });
    keys.push(...page.entries.map((entry) => entry.seq));
    from = page.next;
  }
  return keys;
};

/** What {@link openStream} works from. */
export interface StreamOptions {
  readonly feed: DeliveryFeed;
  readonly settings: ReaderSettings;
  readonly sources: readonly string[];
  readonly start: StreamPosition;
  readonly now: () => number;
  readonly notifier?: DeliveryNotifier;
  readonly telemetry: Telemetry;
  /** Whether the stream's token is still live (a revocation reaches it through the token cache). */
  readonly tokenLive: () => Promise<boolean>;
  /** For the log line when the token stops being live. */
  readonly tokenId?: string;
  /**
   * The token's read budget, drawn on before every index read. Spent at the opening: it rejects
   * ({@link ReadBudgetSpentError}, a 429); once open, the stream reads again when the budget admits it.
   * @default none: reads unbounded
   */
  readonly budget?: TokenReadBudget;
}

/**
 * One open stream. Every `pollMs` (or sooner, when the local server says a
 * delivery was stored) it reads the index, oldest first, up to `settleMs`
 * before now: past its position, and every `sweepMs` from the bottom of its
 * window (`lookBackMs` behind its position), page after page while the client
 * keeps up. It sends each delivery of the window it has not sent yet: a
 * delivery stored late (a slow writer, index lag) is still sent while it falls
 * inside the window, and a delivery's delay does not grow with the window.
 * An event's id is the stream's position after it ({@link StreamPosition}: the
 * window and a digest of what was sent in it), so a stream resumed with
 * `Last-Event-ID` reads that window again and sends exactly what the client was
 * not sent: nothing twice, and nothing that became visible after it dropped.
 * When the digest cannot tell (more late deliveries than it can name, or sent
 * ones since gone), the window is sent again: repeats rather than a gap, and a
 * warning in the log. So is the look-back's window when the id's position is
 * ahead of the clock (see `aheadOfClock`): the stream starts from the clock.
 * Reads the index only while the client keeps up (under the body's high-water
 * mark, so at most one page more is held for a client that stops reading).
 * Ends by itself after `streamMaxMs`, and as soon as its token is revoked or
 * expires (checked before every read). The first read is made before the stream
 * is handed back: a store that cannot be read then rejects (503 `unavailable`),
 * rather than a stream that ends at once. Every read draws on the token's read
 * budget: spent at the opening, it rejects (429); spent later, the stream is not
 * cut but waits until the budget admits its next read (keep-alives go on), and a
 * pass it is in goes on from where it waited rather than from the window's bottom,
 * so even a stream whose window is more than the budget lets it read at once still
 * moves forward.
 */
export const openStream = async (options: StreamOptions): Promise<Readable> => {
  const { feed, settings, now, sources, budget } = options;
  // Only ever rises: nothing at or below it is sent (again).
  let { lower, position } = options.start;
  let continueFrom: string | undefined;
  let sent = new SentWindow();
  const opened = now();
  let lastWrite = opened;
  let wake: (() => void) | undefined;
  // Set while the client has not taken what was already sent: its next read wakes the loop.
  let waitingForReader = false;
  const stream = new Readable({ read: () => (waitingForReader ? wake?.() : undefined) });
  const write = (text: string): void => {
    lastWrite = now();
    stream.push(text);
  };
  const idNow = (): string => encodeStreamId({ lower, position, sent: sent.digest() });
  /** The bottom of the window a position names: `lookBackMs` behind it. */
  const windowFloor = (seq: string): string => seqFloor(boundMs(seq) - settings.lookBackMs);
  const unsubscribe = options.notifier?.subscribe(() => {
    // A delivery was just stored: look once it has settled.
    setTimeout(() => wake?.(), settings.settleMs + 5).unref?.();
  });

  const resume = async (): Promise<void> => {
    const nowMs = now();
    if (aheadOfClock(options.start, nowMs)) {
      // Waiting for the clock to reach the position would pass over everything stored meanwhile (sorted below it): an
      // honest client's after this server's clock stepped back, or a made-up id. Start from the clock, as a new
      // stream does, but with the look-back's window sent again: repeats rather than a gap.
      options.telemetry.logger.warn('event stream resumed from an id ahead of the clock; sending the look-back window again', {
        tokenId: options.tokenId,
        aheadSeconds: Math.round((boundMs(position) - nowMs) / 1000),
      });
      position = seqCeiling(nowMs - settings.settleMs);
      lower = windowFloor(position);
      return;
    }
    if (lower >= position) return;
    // A window wider than this server's look-back (another setting, or not an id it gave out) is cut to it.
    const bottom = windowFloor(position);
    if (lower < bottom) lower = bottom;
    const visible = await keysBetween(feed, budget, sources, lower, position, now());
    const restored = lower === options.start.lower ? SentWindow.restore(visible, options.start.sent) : undefined;
    if (restored) sent = restored;
    else
      options.telemetry.logger.warn(
        'event stream resumed without knowing which deliveries of its window the client has; sending them again',
        {
          tokenId: options.tokenId,
          window: visible.length,
        },
      );
  };

  const moveTo = (seq: string): void => {
    position = seq;
    // The window follows the position: each id names a window no wider than the look-back.
    const bottom = windowFloor(position);
    if (bottom > lower) sent.dropUpTo((lower = bottom));
  };

  /** Reads one page of the index after `from`, sends what it holds that was not sent; the next page's start, if any. */
  const readPage = async (from: string): Promise<string | undefined> => {
    const cutoff = now() - settings.settleMs;
    const page = await budgetedBetween(feed, budget, {
      sources,
      after: from,
      upTo: seqCeiling(cutoff),
      nowSeconds: Math.floor(now() / 1000),
    });
    for (const entry of page.entries) {
      if (entry.seq <= lower || sent.has(entry.seq)) continue;
      sent.add(entry.seq);
      if (entry.seq > position) moveTo(entry.seq);
      write(`event: delivery\nid: ${idNow()}\ndata: ${JSON.stringify(deliverySummary(entry))}\n\n`);
    }
    // A read cut at its limit has seen every delivery of its sources up to where it stopped, sent or not (other
    // sources, expired): the position moves there and the client is told, or a stream whose sources are quiet reads
    // the same backlog again on every pass and after every resume, and never reaches its next delivery. To the start of
    // that key's millisecond when it is another source's: the id must not name a delivery the token may not see.
    const reached = page.next === undefined ? undefined : boundWithin(page.next, sources, 'up');
    if (reached !== undefined && reached > position) {
      moveTo(reached);
      write(`id: ${idNow()}\n\n`);
    }
    // The pass itself goes on from the exact key: one millisecond of more than a page of other deliveries is no loop.
    return page.next;
  };

  // The window (for deliveries that became visible late) is read again every `sweepMs`; the passes between read only
  // past the position, so a delivery's delay does not grow with how many the window holds.
  const sweepMs = Math.min(SWEEP_POLLS * settings.pollMs, Math.max(settings.pollMs, settings.lookBackMs / SWEEP_SHARE));
  let sweptAt = -Infinity;
  // Set once the stream has opened: from then on a spent read budget makes it wait, not fail.
  let streaming = false;
  /** Until when the token's read budget has nothing for this stream (epoch ms). */
  let spentUntil = -Infinity;
  /** Whether the budget made this stream wait since its last sweep began: the pass then goes on, not from the bottom. */
  let spentSinceSweep = false;
  /**
   * One pass over the index, page after page while the client keeps up (`pages` at most); a pass the client's
   * buffer cuts short goes on from `continueFrom` once it reads again (from the bottom of the window when a sweep
   * has fallen due meanwhile).
   */
  const poll = async (pages = Infinity): Promise<void> => {
    // A sweep falls due even in the middle of a pass: a client its buffer holds back while every page is full would
    // otherwise see no sweep until it caught up, and a late delivery behind the position would leave the window unsent.
    // The sweep starts again from the bottom of the window and goes on past the position where the pass was.
    // Not while a pass the read budget held back goes on: each wait would start it again from the bottom of the
    // window, and a window larger than what the budget admits between two sweeps would never be passed.
    if (now() - sweptAt >= sweepMs && !(spentSinceSweep && continueFrom !== undefined)) {
      sweptAt = now();
      spentSinceSweep = false;
      continueFrom = lower;
    } else continueFrom ??= position;
    for (let read = 0; continueFrom !== undefined && read < pages && !stream.destroyed; read++) {
      if (read > 0 && stream.readableLength >= stream.readableHighWaterMark) return;
      // The stream's end and its token before every read, not only before every pass (the run loop checks the first
      // read of each): a long pass for a client that keeps up would otherwise go on after a revocation.
      if (read > 0 && (now() - opened >= settings.streamMaxMs || !(await options.tokenLive()))) return;
      try {
        continueFrom = await readPage(continueFrom);
      } catch (error) {
        if (!streaming || !(error instanceof ReadBudgetSpentError)) throw error;
        if (spentUntil === -Infinity)
          options.telemetry.logger.warn(
            'event stream waits: its read token has spent its read budget; it reads on when the budget admits more',
            {
              tokenId: options.tokenId,
              retryAfterSeconds: error.retryAfterSeconds,
            },
          );
        spentUntil = now() + error.retryAfterSeconds * 1000;
        spentSinceSweep = true;
        return;
      }
    }
  };

  try {
    await resume();
    // Tells EventSource-like clients how soon to come back, sends the headers at once, and
    // gives the opening position as the last event id: a client dropped before its first
    // delivery resumes from here too, so nothing stored meanwhile is missed.
    write(`retry: 1000\nid: ${idNow()}\n\n`);
    // One page before the answer: the store is known to answer, and the first byte does not wait for the whole window.
    await poll(1);
    streaming = true;
  } catch (error) {
    unsubscribe?.();
    stream.destroy();
    throw error;
  }
  let firstRead = true;

  const run = async (): Promise<void> => {
    try {
      while (!stream.destroyed && now() - opened < settings.streamMaxMs) {
        if (!(await options.tokenLive())) {
          options.telemetry.logger.warn('event stream ended: the read token was revoked or has expired', { tokenId: options.tokenId });
          if (!stream.destroyed) write(': the read token was revoked or has expired\n\n');
          return;
        }
        // A client that reads slower than deliveries come (or not at all) is sent no more than the
        // buffer holds: the index is read for it again once it has taken that.
        waitingForReader = stream.readableLength >= stream.readableHighWaterMark;
        if (!waitingForReader && !firstRead && now() >= spentUntil) await poll();
        firstRead = false;
        if (now() - lastWrite >= settings.keepAliveMs) write(': keep-alive\n\n');
        const untilKeepAlive = settings.keepAliveMs - (now() - lastWrite);
        const untilEnd = settings.streamMaxMs - (now() - opened);
        // A pass the client's buffer cut short goes on as soon as the client reads (after `pollMs` at the latest).
        if (continueFrom !== undefined) waitingForReader = stream.readableLength >= stream.readableHighWaterMark;
        const untilBudget = spentUntil - now();
        const pause =
          untilBudget > 0
            ? Math.max(0, Math.min(untilBudget, untilKeepAlive, untilEnd))
            : continueFrom === undefined
              ? Math.max(0, Math.min(settings.pollMs, untilKeepAlive, untilEnd))
              : waitingForReader
                ? settings.pollMs
                : 0;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        waitingForReader = false;
      }
      if (!stream.destroyed) write(': the stream ends here; reconnect with Last-Event-ID to go on\n\n');
    } catch (error) {
      // A stream already closed (its client gone, or closed unsent at its opening's deadline) has its read aborted: no error.
      if (!stream.destroyed) options.telemetry.logger.error('event stream stopped: the store could not be read', { error });
    } finally {
      unsubscribe?.();
      if (!stream.destroyed) stream.push(null);
    }
  };
  stream.on('close', () => wake?.());
  void run();
  return stream;
};
