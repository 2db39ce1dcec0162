/**
 * The ports fetch will not connect to: the Fetch standard's "bad port" list, which Node's fetch applies
 * (`TypeError: fetch failed`, cause `bad port`) and browsers too. A server on one of them is out of reach
 * of `hookwarden send`, `replay`, `tail` and `listen`, and of a browser.
 */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
  119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
  989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * The port of an http(s) URL when fetch refuses it, else undefined.
 * @example fetchBlockedPort(new URL('http://127.0.0.1:6000/')) // 6000
 */
export const fetchBlockedPort = (url: URL): number | undefined => {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return FETCH_BLOCKED_PORTS.has(port) ? port : undefined;
};

/** Why a URL on a blocked port cannot be used, for a message. */
export const fetchBlockedPortReason = (port: number): string =>
  `port ${port} is one fetch refuses to connect to (the Fetch standard's bad ports; browsers refuse it too)`;
