import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

/** Credentials with no secret-like shape (lower case, words): only their place in a URL says what they are. */
const PASSWORD = 'pw-horse-battery-staple-42';
const TOKEN = 'tok-orange-lantern-river-7';
/** Secret-shaped values pasted where an argument goes (a swapped line, a paste into the wrong prompt). */
const READ_TOKEN = 'hwk_Zq8vN3xL0pR7tY2mB5cW9dF4gH6jK1sA3eU8iO0';
const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Every 12-character part of `value`. */
const parts = (value: string): string[] => Array.from({ length: value.length - 11 }, (_, i) => value.slice(i, i + 12));

/**
 * Each subcommand given a bad argument that carries a credential: the message refusing it (commander's, which quotes
 * the argument as typed, or the command's own) names the option and prints no 12-character part of the credential.
 */
describe('the command line refusing an argument that carries a credential', () => {
  it.each([
    ['replay --to user:password@', ['replay', 'default', 'msg_1', '--to', `https://deploy:${PASSWORD}@hooks.example.com/in`], PASSWORD],
    ['replay --to, unparsable, ?token=', ['replay', 'default', 'msg_1', '--to', `ht tp://hooks.example.com/in?token=${TOKEN}`], TOKEN],
    ['listen --forward-to user:password@', ['listen', '--forward-to', `https://deploy:${PASSWORD}@hooks.example.com/in`], PASSWORD],
    ['send --url with ?token=', ['send', 'default', '--url', `http://127.0.0.1:1/in?token=${TOKEN}`], TOKEN],
    ['sign --curl --url with ?access_token=', ['sign', 'default', '--curl', '--url', `http://127.0.0.1:1/?access_token=${TOKEN}`], TOKEN],
    [
      'replay --token-env given the token itself',
      ['replay', 'default', 'msg_1', '--to', 'http://127.0.0.1:8080/in', '--token-env', READ_TOKEN],
      READ_TOKEN,
    ],
    ['tail --token-env given the token itself', ['tail', '--token-env', READ_TOKEN], READ_TOKEN],
    ['send --secret-env given the secret itself', ['send', 'default', '--secret-env', WEBHOOK_SECRET], WEBHOOK_SECRET],
    ['sign with the secret as the source', ['sign', WEBHOOK_SECRET], WEBHOOK_SECRET],
    ['deliveries --source given a token', ['deliveries', '--source', READ_TOKEN], READ_TOKEN],
    ['block given a token', ['block', READ_TOKEN], READ_TOKEN],
    ['disable given a secret', ['disable', WEBHOOK_SECRET], WEBHOOK_SECRET],
    ['keys given a secret', ['keys', WEBHOOK_SECRET], WEBHOOK_SECRET],
    ['token revoke given the token', ['token', 'revoke', READ_TOKEN], READ_TOKEN],
  ])('%s: refused, no part of it printed', async (_name, args, credential) => {
    const result = await cli(args, { WEBHOOK_SECRET: 'whsec_' + Buffer.alloc(32, 7).toString('base64') });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^hookwarden: /);
    const printed = result.stdout + result.stderr;
    for (const part of parts(credential)) expect(printed).not.toContain(part);
  });
});

/**
 * A receiver URL refused for its port (fetch will not connect to 6000): commander quotes it as typed. A token in its path
 * (Slack's `/services/T…/B…/<token>`) or in a query parameter with a short name (`?k=`) is not named like a credential
 * and has no secret's shape; the refusal shows the URL as replay and listen show a receiver's, host included.
 */
describe('the command line refusing a receiver URL with a token in its path or an unnamed query parameter', () => {
  const PATH_TOKEN = 'QWERTYUIOPASDFGHJKLZXCVB';
  const VALUE = 'qv-amber-harbor-willow-64';
  it.each([
    ['replay --to', ['replay', 'default', 'msg_1', '--to', `https://hooks.example.com:6000/services/T000/B000/${PATH_TOKEN}?k=${VALUE}`]],
    ['listen --forward-to', ['listen', '--forward-to', `https://hooks.example.com:6000/services/T000/B000/${PATH_TOKEN}?k=${VALUE}`]],
  ])('%s: refused naming the option and the host, no part of either token printed', async (_name, args) => {
    const result = await cli(args, { WEBHOOK_SECRET: 'whsec_' + Buffer.alloc(32, 7).toString('base64') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'https://hooks.example.com:6000/services/T000/B000/[redacted]?k=[redacted]' is invalid");
    const printed = result.stdout + result.stderr;
    for (const credential of [PATH_TOKEN, VALUE]) for (const part of parts(credential)) expect(printed).not.toContain(part);
  });
});
