import { createServer, request as forward, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What {@link stallingStore} has done so far. */
export interface StallingStore {
  /** Give this to the client instead of the store's endpoint. */
  readonly endpoint: string;
  /**
   * Holds the next `times` requests of `operation` (e.g. `Query`) that `when` picks (it sees the request's JSON,
   * `TableName`, `IndexName`…): the connection stays open and nothing is ever answered, as a store or a network
   * that hangs. Default `times`: every such request until {@link StallingStore.release}. With `delivered`, the
   * request reaches the store (a write lands) and only its answer is held: a lost answer.
   */
  stall(
    operation: string,
    options?: { readonly times?: number; readonly when?: (input: Record<string, unknown>) => boolean; readonly delivered?: boolean },
  ): void;
  /** Stops stalling (requests already held stay held). */
  release(): void;
  /** Requests held so far. */
  readonly held: () => number;
  /** Held requests whose client gave up on them (closed the connection): an aborted call. */
  readonly abandoned: () => number;
  close(): Promise<void>;
}

const readAll = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/**
 * A real HTTP hop in front of dynalite that can hang chosen DynamoDB requests: the SDK's HTTP request stays
 * open with no byte of answer, as when DynamoDB or the network hangs part-way through a request. Everything
 * else is passed through unchanged.
 */
export const stallingStore = async (target: string): Promise<StallingStore> => {
  const upstream = new URL(target);
  let rule: { operation: string; remaining: number; when?: (input: Record<string, unknown>) => boolean; delivered: boolean } | undefined;
  let held = 0;
  let abandoned = 0;
  const server = createServer((req, res) => {
    // The store answers only requests addressed to itself (local/dynamo.ts); it checks no signature.
    const upstreamRequest = () => ({
      hostname: upstream.hostname,
      port: upstream.port,
      path: req.url,
      method: req.method,
      headers: { ...req.headers, host: upstream.host },
    });
    void (async () => {
      const body = await readAll(req);
      const operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      if (rule && rule.remaining > 0 && rule.operation === operation) {
        let input: Record<string, unknown> = {};
        try {
          input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          // Not JSON: `when` sees nothing.
        }
        if (rule.when?.(input) ?? true) {
          rule.remaining -= 1;
          held += 1;
          res.on('close', () => (abandoned += 1));
          if (!rule.delivered) return;
          // The store gets the request and answers; the answer goes nowhere.
          const landed = forward(upstreamRequest(), (answer) => answer.resume());
          landed.on('error', () => undefined);
          landed.end(body);
          return;
        }
      }
      const out = forward(upstreamRequest(), (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stall: (operation, options = {}) => {
      rule = {
        operation,
        remaining: options.times ?? Infinity,
        delivered: options.delivered ?? false,
        ...(options.when ? { when: options.when } : {}),
      };
    },
    release: () => (rule = undefined),
    held: () => held,
    abandoned: () => abandoned,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
