import { describe, expect, it } from 'vitest';
import { safeUrl, withSafeUrls } from '../../cli/shown-url.js';

/** The rule replay and listen print a receiver URL by: what stays names the receiver, what goes may be a credential. */
describe('safeUrl', () => {
  it.each([
    ['a route of short words stays whole', 'http://127.0.0.1:8080/webhooks/github', 'http://127.0.0.1:8080/webhooks/github'],
    [
      "Slack's incoming webhook: the token segment goes, its short ids stay",
      'https://hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX',
      'https://hooks.example.com/services/T000/B000/[redacted]',
    ],
    [
      "Discord's webhook: an 18-digit id and a 68-character token",
      `https://discord.example.com/api/webhooks/123456789012345678/${'aB3-'.repeat(17)}`,
      'https://discord.example.com/api/webhooks/[redacted]/[redacted]',
    ],
    ['8 characters mixing letters and digits', 'https://h.example.com/in/T0123ABC/v2', 'https://h.example.com/in/[redacted]/v2'],
    [
      'every query value, whatever its name; names and empty values kept',
      'https://h.example.com/in?k=abc&code=1&v=&flag',
      'https://h.example.com/in?k=[redacted]&code=[redacted]&v=&[redacted]',
    ],
    ['user:password@ and a fragment', 'https://deploy:pw@h.example.com/in#tok', 'https://[redacted]@h.example.com/in#[redacted]'],
    ['a relative Location', '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX/?k=abc', '/services/T000/B000/[redacted]/?k=[redacted]'],
    ['a URL too malformed to parse', 'http://exa mple/in put?token=abc', 'http://exa mple/in put?token=[redacted]'],
  ])('%s', (_name, url, shown) => {
    expect(safeUrl(url)).toBe(shown);
  });
});

describe('withSafeUrls', () => {
  it('shows every URL a text quotes as safeUrl does, the sentence around it kept', () => {
    expect(
      withSafeUrls(
        "argument 'https://h.example.com:6000/T0/B0/XXXXXXXXXXXXXXXXXXXXXXXX?k=v' is invalid; cannot reach http://1.2.3.4/in?b=c: ECONNREFUSED.",
      ),
    ).toBe(
      "argument 'https://h.example.com:6000/T0/B0/[redacted]?k=[redacted]' is invalid; cannot reach http://1.2.3.4/in?b=[redacted]: ECONNREFUSED.",
    );
  });
});
