import { terminalSafe } from '../terminal.js';
import { output } from '../output.js';
import type { CliContext } from '../context.js';
import type { AwsClients } from '../targets.js';
import { apiTargetOf, type ApiTargetOptions } from '../consumers/api.js';
import { DeliveryNotFound, fetchDelivery, forwardDelivery, notFollowed, type FetchedDelivery } from '../consumers/forward.js';
import { shownUrl } from '../shown-url.js';
import { replayKeyOfProviderId } from './deliveries.js';

/** Options of `hookwarden replay`. */
export interface ReplayOptions extends ApiTargetOptions {
  to: string;
  json?: boolean;
}

/**
 * `hookwarden replay <source> <id> --to <url>`: reads one stored delivery
 * through `GET /deliveries/{source}/{id}` and POSTs its original body bytes
 * and kept headers, plus `Hookwarden-Source` and `Hookwarden-Delivery-Id`, to
 * the URL; prints the receiver's status. Locally `<id>` may also be the
 * provider's own id that `hookwarden deliveries` lists for a delivery whose
 * replay key is a hash of its signed bytes (GitHub, Shopify).
 * @returns 0 when the receiver answered 2xx, else 1
 */
export const replayCommand = async (
  context: CliContext,
  source: string,
  id: string,
  options: ReplayOptions,
  aws?: AwsClients,
): Promise<number> => {
  const target = await apiTargetOf(context, options, aws);
  const delivery = await fetchDelivery(target, source, id).catch(async (error: unknown): Promise<FetchedDelivery> => {
    if (!(error instanceof DeliveryNotFound) || options.stack !== undefined) throw error;
    const key = await replayKeyOfProviderId(context, source, id);
    if (key === undefined || key === id) throw error;
    return fetchDelivery(target, source, key);
  });
  const result = await forwardDelivery(delivery, options.to);
  const ok = result.status >= 200 && result.status < 300;
  if (options.json)
    output.json({
      source: delivery.source,
      id: delivery.id,
      to: shownUrl(options.to),
      status: result.status,
      statusText: result.statusText,
      ...(result.location !== undefined ? { location: result.location } : {}),
      bytes: delivery.body.length,
    });
  else
    output.line(
      terminalSafe(
        `replayed ${delivery.source}/${delivery.id} (${delivery.body.length} B) to ${shownUrl(options.to)}: ${result.status} ${result.statusText}${notFollowed(result)}`,
      ),
    );
  return ok ? 0 : 1;
};
