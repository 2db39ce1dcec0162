import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One hook the stand-in knows: where it delivers, and the secret it signs with. */
export interface StandInHook {
  /** The payload URL (`config.url`). */
  url: string;
  /** The secret deliveries are signed with; `undefined` until set through the API. */
  secret?: string;
}

/** A delivery the stand-in made, as `GET …/hooks/{id}/deliveries` lists it. */
export interface StandInDelivery {
  readonly id: number;
  readonly guid: string;
  readonly event: string;
  readonly status_code: number;
  readonly delivered_at: string;
}

/** A running stand-in for the parts of GitHub's REST API that rotation uses. */
export interface GitHubStandIn {
  readonly url: string;
  /** Hooks by path: `repos/acme/shop/hooks/42` or `orgs/acme/hooks/7`. */
  readonly hooks: Map<string, StandInHook>;
  /** Every request, in order: method and path, and for PATCH the JSON body. */
  readonly requests: Array<{ method: string; path: string; body?: unknown }>;
  readonly deliveries: Map<string, StandInDelivery[]>;
  /**
   * When set, every request is refused as GitHub refuses a client over its rate
   * limit: `primary` answers 403 with `x-ratelimit-remaining: 0` and
   * `x-ratelimit-reset`; `secondary` answers 429 with `retry-after`.
   */
  rateLimited: 'primary' | 'secondary' | undefined;
  /** How long after `POST …/pings` the ping is delivered, ms (GitHub queues it: seconds, at times). @default 0 */
  pingDelayMs: number;
  close(): Promise<void>;
}

const HOOK = /^\/((?:repos\/[^/]+\/[^/]+|orgs\/[^/]+)\/hooks\/\d+)(\/config|\/pings|\/deliveries)?$/;

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });

/**
 * A local HTTP stand-in for GitHub's webhook API, following GitHub's documented
 * requests and answers: `PATCH /repos/{owner}/{repo}/hooks/{id}/config` (and
 * `/orgs/{org}/hooks/{id}/config`) with `{"secret"}` answers 200 with the
 * config (never the secret); `POST …/pings` answers 204 and then delivers a
 * signed ping (`X-Hub-Signature-256`, `X-GitHub-Event: ping`,
 * `X-GitHub-Delivery`) to the hook's URL; `GET …/deliveries` lists the
 * deliveries with the status code each got. Requests need `Authorization: Bearer <token>`.
 */
export const startGitHubStandIn = async (token: string): Promise<GitHubStandIn> => {
  const hooks = new Map<string, StandInHook>();
  const requests: GitHubStandIn['requests'] = [];
  const deliveries = new Map<string, StandInDelivery[]>();
  let nextId = 1;
  const json = (response: ServerResponse, status: number, value?: unknown): void => {
    response.writeHead(status, value === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' });
    response.end(value === undefined ? undefined : JSON.stringify(value));
  };
  const ping = async (path: string, hook: StandInHook): Promise<void> => {
    const hookId = Number(path.split('/').pop());
    const body = JSON.stringify({
      zen: 'Keep it logically awesome.',
      hook_id: hookId,
      hook: { type: path.startsWith('orgs/') ? 'Organization' : 'Repository', id: hookId, events: ['push'], active: true },
    });
    const guid = randomUUID();
    const signature = `sha256=${createHmac('sha256', hook.secret ?? '')
      .update(body)
      .digest('hex')}`;
    let status = 0;
    try {
      const answer = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/stand-in',
          'x-github-event': 'ping',
          'x-github-delivery': guid,
          'x-github-hook-id': String(hookId),
          'x-hub-signature-256': signature,
        },
        body,
      });
      status = answer.status;
      await answer.arrayBuffer();
    } catch {
      status = 502;
    }
    const list = deliveries.get(path) ?? [];
    list.unshift({ id: nextId++, guid, event: 'ping', status_code: status, delivered_at: new Date().toISOString() });
    deliveries.set(path, list);
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://stand-in');
      const text = await readBody(request);
      const match = HOOK.exec(url.pathname);
      requests.push({
        method: request.method ?? '',
        path: url.pathname,
        ...(request.method === 'PATCH' && text ? { body: JSON.parse(text) as unknown } : {}),
      });
      if (standIn.rateLimited === 'primary') {
        response.setHeader('x-ratelimit-limit', '5000');
        response.setHeader('x-ratelimit-remaining', '0');
        response.setHeader('x-ratelimit-reset', String(Math.floor(Date.now() / 1000) + 1800));
        return json(response, 403, {
          message: 'API rate limit exceeded for user ID 1.',
          documentation_url: 'https://docs.github.com/rest',
        });
      }
      if (standIn.rateLimited === 'secondary') {
        response.setHeader('retry-after', '60');
        return json(response, 429, {
          message: 'You have exceeded a secondary rate limit.',
          documentation_url: 'https://docs.github.com/rest',
        });
      }
      if (request.headers.authorization !== `Bearer ${token}`)
        return json(response, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      const hook = match ? hooks.get(match[1] as string) : undefined;
      if (!match || !hook) return json(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      const path = match[1] as string;
      const action = `${request.method} ${match[2] ?? ''}`;
      if (action === 'PATCH /config') {
        const patch = JSON.parse(text || '{}') as { secret?: unknown; url?: unknown };
        if (typeof patch.secret === 'string') hook.secret = patch.secret;
        if (typeof patch.url === 'string') hook.url = patch.url;
        // GitHub answers the config without the secret's value.
        return json(response, 200, {
          content_type: 'json',
          insecure_ssl: '0',
          url: hook.url,
          ...(hook.secret ? { secret: '********' } : {}),
        });
      }
      if (action === 'POST /pings') {
        json(response, 204);
        setTimeout(() => void ping(path, hook), standIn.pingDelayMs);
        return undefined;
      }
      if (action === 'GET /deliveries') return json(response, 200, deliveries.get(path) ?? []);
      return json(response, 404, { message: 'Not Found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const standIn: GitHubStandIn = {
    url: `http://127.0.0.1:${port}`,
    hooks,
    requests,
    deliveries,
    rateLimited: undefined,
    pingDelayMs: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return standIn;
};
