import { describe, expect, it } from 'vitest';
import { FETCH_BLOCKED_PORTS, fetchBlockedPort } from '../../local/fetch-ports.js';

describe('the ports fetch refuses', () => {
  // Refused before any connection is tried: nothing needs to listen there.
  it('are refused by this Node fetch, as "bad port", every one', async () => {
    const causes = await Promise.all(
      [...FETCH_BLOCKED_PORTS].map((port) =>
        fetch(`http://127.0.0.1:${port}/`).then(
          () => 'answered',
          (error: Error) => (error.cause as Error | undefined)?.message,
        ),
      ),
    );
    expect(new Set(causes)).toEqual(new Set(['bad port']));
  });

  it.each([
    ['http://127.0.0.1:6000/', 6000],
    ['https://example.com:10080/x', 10080],
    ['http://127.0.0.1:3000/', undefined],
    ['http://example.com/', undefined],
    ['https://example.com/', undefined],
  ])('%s: %s', (url, port) => {
    expect(fetchBlockedPort(new URL(url))).toBe(port);
  });
});
