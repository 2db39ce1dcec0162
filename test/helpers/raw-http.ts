import { request } from 'node:http';

/** An answer with its header lines exactly as sent (name case and repeats kept). */
export interface RawAnswer {
  readonly status: number;
  /** [name, value] per header line. */
  readonly lines: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
  /** Every value of a header, by case-insensitive name. */
  all(name: string): string[];
}

/**
 * Sends a request whose header lines are exactly `lines` (names in any case,
 * one name on several lines), which `fetch` cannot: it lower-cases names and
 * joins repeats. A `Host` line in `lines` replaces the one made from the URL
 * (a DNS-rebinding request names another host).
 */
export const rawRequest = (
  url: string,
  method: string,
  lines: ReadonlyArray<readonly [string, string]>,
  body?: string,
): Promise<RawAnswer> =>
  new Promise((resolve, reject) => {
    const named = lines.some(([name]) => name.toLowerCase() === 'host');
    const all = named ? lines : [['Host', new URL(url).host] as const, ...lines];
    const req = request(url, { method, headers: all.flatMap(([name, value]) => [name, value]) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string]);
        resolve({
          status: res.statusCode ?? 0,
          lines: pairs,
          body: Buffer.concat(chunks).toString('utf8'),
          all: (name) => pairs.filter(([key]) => key.toLowerCase() === name.toLowerCase()).map(([, value]) => value),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
