import { output } from '../output.js';
import { terminalSafe, terminalSafeJsonLine } from '../terminal.js';
import { UsageError, type CliContext } from '../context.js';
import type { AwsClients } from '../targets.js';
import { apiTargetOf, type ApiTargetOptions } from '../consumers/api.js';
import { followEvents, type DeliveryEvent } from '../consumers/events.js';
import { fetchDelivery, forwardDelivery, notFollowed, type ForwardResult } from '../consumers/forward.js';
import { shownUrl } from '../shown-url.js';
import { SOURCE_NAME } from '../../core/config/rules.js';
import { withoutSecrets } from '../../core/redaction.js';

/** Options of `hookwarden tail`. */
export interface TailOptions extends ApiTargetOptions {
  source?: string;
  json?: boolean;
}

/** Options of `hookwarden listen`. */
export interface ListenOptions extends ApiTargetOptions {
  forwardTo: string;
  source?: string;
  json?: boolean;
}

const checkSource = (source: string | undefined): void => {
  if (source !== undefined && !SOURCE_NAME.test(source)) throw new UsageError(`--source: "${terminalSafe(source)}" is not a source name`);
};

/**
 * Runs `work` with a signal that aborts on the first Ctrl+C (SIGINT) or
 * SIGTERM; the handlers are removed afterwards. A stop is a success (exit 0).
 */
const untilInterrupted = async (work: (signal: AbortSignal) => Promise<void>): Promise<void> => {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await work(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
};

const summary = (d: DeliveryEvent): string => terminalSafe([d.receivedAt, d.source, d.id, d.eventType ?? '-', `${d.size} B`].join('  '));

/** `hookwarden tail [--source …] [--json]`: one line per delivery as it arrives, until Ctrl+C. */
export const tailCommand = async (context: CliContext, options: TailOptions, aws?: AwsClients): Promise<number> => {
  checkSource(options.source);
  const target = await apiTargetOf(context, options, aws);
  output.error(
    terminalSafe(
      `following ${options.source === undefined ? 'every source' : `source ${options.source}`} on ${target.where}; Ctrl+C to stop`,
    ),
  );
  await untilInterrupted((signal) =>
    followEvents(target, {
      signal,
      ...(options.source === undefined ? {} : { source: options.source }),
      onNotice: (text) => output.error(text),
      onDelivery: async (d) => output.line(options.json ? terminalSafeJsonLine(d) : summary(d)),
    }),
  );
  output.error('stopped');
  return 0;
};

/**
 * `hookwarden listen --forward-to <url> [--source …]`: each delivery as it
 * arrives is read (`GET /deliveries/{source}/{id}`) and POSTed to the URL like
 * `replay` does, one at a time in order; one line per forward with the status.
 * A forward that fails is reported and not retried; the stream goes on. A read the API refuses
 * for now (429, 5xx) or that gets no answer is waited out and made again: a burst over the token's
 * limit or a dropped connection skips nothing.
 */
export const listenCommand = async (context: CliContext, options: ListenOptions, aws?: AwsClients): Promise<number> => {
  checkSource(options.source);
  const target = await apiTargetOf(context, options, aws);
  output.error(
    terminalSafe(
      `forwarding ${options.source === undefined ? 'every source' : `source ${options.source}`} from ${target.where} to ${shownUrl(options.forwardTo)}; Ctrl+C to stop`,
    ),
  );
  await untilInterrupted((signal) =>
    followEvents(target, {
      signal,
      ...(options.source === undefined ? {} : { source: options.source }),
      onNotice: (text) => output.error(text),
      onDelivery: async (d) => {
        let result: ForwardResult | undefined;
        let problem: string | undefined;
        try {
          const delivery = await fetchDelivery(target, d.source, d.id, {
            signal,
            onRetry: (problem, pauseMs) => output.error(`${problem}; reading it again in ${Math.ceil(pauseMs / 1000)} s`),
          });
          result = await forwardDelivery(delivery, options.forwardTo, signal);
        } catch (error) {
          if (signal.aborted) throw error;
          // Printed on standard output, line after line: whatever an unexpected error quotes, nothing shaped like a credential.
          problem = withoutSecrets((error as Error).message, []);
        }
        if (options.json)
          output.line(
            terminalSafeJsonLine({
              source: d.source,
              id: d.id,
              receivedAt: d.receivedAt,
              to: shownUrl(options.forwardTo),
              ...(result === undefined ? { error: problem } : result),
            }),
          );
        else
          output.line(
            terminalSafe(
              `${d.receivedAt}  ${d.source}  ${d.id}  -> ${result === undefined ? `failed: ${problem}` : `${result.status} ${result.statusText}${notFollowed(result)}`}`,
            ),
          );
      },
    }),
  );
  output.error('stopped');
  return 0;
};
