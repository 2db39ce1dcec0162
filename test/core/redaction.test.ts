import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactText, WINDOW_CHARS, withoutSecrets } from '../../core/redaction.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const SECRET = TEST_SECRETS.standardWebhooks;

describe('redactText', () => {
  it.each([
    ['the whole value', `key ${SECRET} refused`, 'key [redacted] refused'],
    ['a part of 12 characters', `key ${SECRET.slice(10, 22)} refused`, 'key [redacted] refused'],
    ['a part inside other text', `x${SECRET.slice(3, 30)}y`, 'x[redacted]y'],
    ['two parts', `${SECRET.slice(0, 14)} and ${SECRET.slice(20)}`, '[redacted] and [redacted]'],
    [
      'a part of 11 characters (kept: any two texts share short runs)',
      `key ${SECRET.slice(10, 21)} refused`,
      `key ${SECRET.slice(10, 21)} refused`,
    ],
    ['nothing of it', 'queue refused the message (quota)', 'queue refused the message (quota)'],
  ])('%s', (_name, text, shown) => {
    expect(redactText(text, [SECRET])).toBe(shown);
  });

  it('leaves no part of WINDOW_CHARS characters of any sensitive value in whatever text quotes one (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: WINDOW_CHARS, maxLength: 80, unit: 'binary' }),
        fc.string({ maxLength: 40, unit: 'binary' }),
        fc.string({ maxLength: 40, unit: 'binary' }),
        fc.nat(),
        fc.nat(),
        (secret, before, after, a, b) => {
          const start = a % (secret.length - WINDOW_CHARS + 1);
          const end = start + WINDOW_CHARS + (b % (secret.length - start - WINDOW_CHARS + 1));
          const shown = redactText(`${before}${secret.slice(start, end)}${after}`, [secret]);
          for (let i = 0; i + WINDOW_CHARS <= secret.length; i += 1) expect(shown).not.toContain(secret.slice(i, i + WINDOW_CHARS));
        },
      ),
    );
  });
});

describe('withoutSecrets', () => {
  it.each([
    ['a Standard Webhooks secret', `got "${SECRET}"`, 'got "[redacted]"'],
    ['a read token', 'got "hwk_Zq8vN3xL0pR7tY2mB5cW9dF4gH6jK1sA3eU8iO0"', 'got "[redacted]"'],
    ['a random base64 key', 'got "q7Xv2LmN9pQ4rS8tU1wY3zA6bC0dE5fG"', 'got "[redacted]"'],
    ['a hex key', 'got "8f742231b10e8888abcd9900ff1185a5"', 'got "[redacted]"'],
    [
      'a path with upper case and digits (kept)',
      'in /Users/JaneDoe2024/projects/hookwarden.config.json',
      'in /Users/JaneDoe2024/projects/hookwarden.config.json',
    ],
    ['a source name (kept)', 'got "billing-events-2024-production"', 'got "billing-events-2024-production"'],
    ['an IPv6 address (kept)', 'got "2001:0db8:85a3:0000:0000:8a2e:0370:7334"', 'got "2001:0db8:85a3:0000:0000:8a2e:0370:7334"'],
    [
      "a URL's user:password (host kept)",
      "argument 'https://deploy:pw-horse-battery-staple-42@hooks.example.com/in' is invalid",
      "argument 'https://[redacted]@hooks.example.com/in' is invalid",
    ],
    ["a URL's user name alone", 'got "https://tok-orange-lantern-river-7@example.com"', 'got "https://[redacted]@example.com"'],
    [
      'a query parameter named like a credential (the others kept)',
      'cannot reach http://127.0.0.1:9/in?page=2&access_token=tok-orange-lantern-river-7&x=1',
      'cannot reach http://127.0.0.1:9/in?page=2&access_token=[redacted]&x=1',
    ],
    ['a URL too malformed to parse', "'ht tp://x/?sig=tok-orange-lantern-river-7'", "'ht tp://x/?sig=[redacted]'"],
    [
      'a query value before punctuation, and one already redacted (the punctuation kept)',
      'cannot reach http://x/?token=tok-orange-lantern-river-7: ECONNREFUSED (http://x/?token=[redacted]: again)',
      'cannot reach http://x/?token=[redacted]: ECONNREFUSED (http://x/?token=[redacted]: again)',
    ],
    ['an email address (kept)', 'got "ops@example.com"', 'got "ops@example.com"'],
  ])('%s', (_name, text, shown) => {
    expect(withoutSecrets(text, [])).toBe(shown);
  });
});
