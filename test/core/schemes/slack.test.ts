import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slack } from '../../../core/schemes/index.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';
import { expectRefused, flipByte, NOW, signatureParts, verifyWith, signedIdOf } from './fixtures.js';

const SECRET = TEST_SECRETS.slack;
// Published vector (Slack's "Verifying requests from Slack"), see webhook-schemes.md: a slash command.
const VECTOR = {
  timestamp: 1531420618,
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
// An Events API envelope, in Slack's key order: event_id after the event.
const event = JSON.stringify({
  token: 'XXYYZZ',
  team_id: 'T1',
  event: { type: 'app_mention', text: '"event_id":"EvFAKE"' },
  type: 'event_callback',
  event_id: 'Ev08MFMKH6',
  event_time: 1,
});

/** The one valid delivery; each test breaks one thing. */
const valid = (secret: string = SECRET, at = NOW, body = event) => slack.sign(secret, { body: Buffer.from(body), timestampSeconds: at });

describe('slack: accepted', () => {
  it("the published vector; a slash command has no id, so the key is the signed bytes' hash", () => {
    const headers = { 'X-Slack-Request-Timestamp': String(VECTOR.timestamp), 'X-Slack-Signature': VECTOR.signature };
    expect(verifyWith(slack, [SECRET], headers, VECTOR.body, VECTOR.timestamp)).toEqual({
      ok: true,
      deliveryId: signedIdOf(`v0:${VECTOR.timestamp}:${VECTOR.body}`),
      timestampSeconds: VECTOR.timestamp,
    });
  });

  it('an Events API delivery: the id is the root event_id, whatever the event text holds', () => {
    expect(verifyWith(slack, [SECRET], valid(), event)).toEqual({ ok: true, deliveryId: 'Ev08MFMKH6', timestampSeconds: NOW });
  });

  it('a retry (X-Slack-Retry-Num, a new timestamp) is the same delivery', () => {
    const retry = { ...valid(SECRET, NOW + 60), 'X-Slack-Retry-Num': '1' };
    expect(verifyWith(slack, [SECRET], retry, event, NOW + 60)).toMatchObject({ deliveryId: 'Ev08MFMKH6' });
  });

  it('either of two secrets', () => {
    expect(verifyWith(slack, ['0123456789abcdef0123456789abcdef', SECRET], valid(), event).ok).toBe(true);
  });

  it.each([299, -299])('a timestamp %i s off (limit 300)', (offset) => {
    expect(verifyWith(slack, [SECRET], valid(SECRET, NOW - offset), event).ok).toBe(true);
  });

  it.each([
    ['first', '{"event_id":"EvFIRST","event":{"type":"x"}}', 'EvFIRST'],
    ['with spaces and newlines', '{ "type" : "event_callback" ,\n "event_id" : "EvSPACED" }\n', 'EvSPACED'],
    ['only nested', '{"event":{"event_id":"EvNESTED"},"type":"x"}', undefined],
    ['nested after the root one', '{"event_id":"EvROOT","event":{"event_id":"EvNESTED"}}', 'EvROOT'],
    ['escaped', '{"event_id":"Ev\\u0041"}', 'EvA'],
    ['not a string', '{"event_id":42}', undefined],
    ['too long', `{"event_id":"${'E'.repeat(257)}"}`, undefined],
    ['in a JSON array body', '["event_id","x"]', undefined],
    ['far from the end', `{"event_id":"EvFAR","blocks":["${'x'.repeat(2048)}"]}`, 'EvFAR'],
    ['nested, far from the end', `{"event":{"event_id":"EvNESTED"},"blocks":["${'x'.repeat(2048)}"]}`, undefined],
  ])('reads the event_id as JSON.parse does: %s', (_name, body, id) => {
    const result = verifyWith(slack, [SECRET], valid(SECRET, NOW, body), body);
    expect(result.ok && result.deliveryId).toBe(id ?? signedIdOf(`v0:${NOW}:${body}`));
  });

  it('reads the same event_id as JSON.parse for any JSON object (property)', () => {
    const id = fc.stringMatching(/^[\x21-\x7e]{1,20}$/);
    const value = fc.jsonValue({ maxDepth: 3 });
    const object = fc.record({
      before: fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 4 }),
      after: fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 4 }),
    });
    fc.assert(
      fc.property(object, id, fc.boolean(), fc.boolean(), fc.nat(1500), ({ before, after }, eventId, withId, nest, padding) => {
        const root: Record<string, unknown> = { ...before, ...(nest ? { event: { event_id: 'EvNESTED', ...after } } : {}) };
        if (withId) root.event_id = eventId;
        Object.assign(root, after, { pad: 'x'.repeat(padding) });
        const body = JSON.stringify(root, null, nest ? 1 : 0);
        const parsed: unknown = (JSON.parse(body) as Record<string, unknown>).event_id;
        const sent = valid(SECRET, NOW, body);
        const result = verifyWith(slack, [SECRET], sent, body);
        const expected = typeof parsed === 'string' && /^[\x21-\x7e]{1,256}$/.test(parsed) ? parsed : signedIdOf(`v0:${NOW}:${body}`);
        expect(result.ok && result.deliveryId).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('slack: refused', () => {
  const leaks = [SECRET, ...signatureParts(valid()['X-Slack-Signature'] as string)];

  it.each([
    ['wrong secret', () => verifyWith(slack, ['nope'], valid(), event), 'signature_invalid'],
    ['one flipped body byte', () => verifyWith(slack, [SECRET], valid(), flipByte(event, 5)), 'signature_invalid'],
    ['stale by 301 s', () => verifyWith(slack, [SECRET], valid(SECRET, NOW - 301), event), 'timestamp_out_of_range'],
    ['future by 301 s', () => verifyWith(slack, [SECRET], valid(SECRET, NOW + 301), event), 'timestamp_out_of_range'],
    [
      'a millisecond timestamp',
      () => verifyWith(slack, [SECRET], { ...valid(), 'X-Slack-Request-Timestamp': String(NOW * 1000) }, event),
      'timestamp_invalid',
    ],
    ['a signed millisecond timestamp', () => verifyWith(slack, [SECRET], valid(SECRET, NOW * 1000), event), 'timestamp_invalid'],
    [
      'a timestamp with a space',
      () => verifyWith(slack, [SECRET], { ...valid(), 'X-Slack-Request-Timestamp': ` ${NOW}` }, event),
      'timestamp_invalid',
    ],
    [
      'no timestamp',
      () => verifyWith(slack, [SECRET], { 'X-Slack-Signature': valid()['X-Slack-Signature'] as string }, event),
      'signature_invalid',
    ],
    ['no signature', () => verifyWith(slack, [SECRET], { 'X-Slack-Request-Timestamp': String(NOW) }, event), 'signature_invalid'],
    [
      'a garbled signature',
      () => verifyWith(slack, [SECRET], { ...valid(), 'X-Slack-Signature': 'v0=nothex' }, event),
      'signature_invalid',
    ],
    [
      'a signature of another length',
      () => verifyWith(slack, [SECRET], { ...valid(), 'X-Slack-Signature': `v0=${'ab'.repeat(31)}` }, event),
      'signature_invalid',
    ],
    [
      'another version',
      () =>
        verifyWith(
          slack,
          [SECRET],
          { ...valid(), 'X-Slack-Signature': (valid()['X-Slack-Signature'] as string).replace('v0=', 'v1=') },
          event,
        ),
      'signature_invalid',
    ],
  ])('%s', (_name, run, code) => {
    expectRefused(run(), code, leaks);
  });
});

describe('slack: secrets, sign and event type', () => {
  it('signs the published vector exactly', () => {
    expect(slack.sign(SECRET, { body: Buffer.from(VECTOR.body), timestampSeconds: VECTOR.timestamp })['X-Slack-Signature']).toBe(
      VECTOR.signature,
    );
  });

  it('refuses a pasted signature or a bot token as the signing secret', () => {
    expect(() => slack.decodeSecret(VECTOR.signature)).toThrow(/signature/);
    expect(() => slack.decodeSecret('xoxb-123-456-abc')).toThrow(/token/);
    expect(() => slack.decodeSecret('')).toThrow(/empty/);
  });

  it('reads event.type, else type, only when asked', () => {
    expect(slack.eventTypeOf?.({ headers: new Map(), body: Buffer.from(event) })).toBe('app_mention');
    expect(slack.eventTypeOf?.({ headers: new Map(), body: Buffer.from('{"type":"url_verification"}') })).toBe('url_verification');
    expect(slack.eventTypeOf?.({ headers: new Map(), body: Buffer.from(VECTOR.body) })).toBeUndefined();
    expect(slack.keptHeaders).toEqual(expect.arrayContaining(['content-type', 'user-agent', 'x-slack-retry-num', 'x-slack-retry-reason']));
  });
});
