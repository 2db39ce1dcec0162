import { randomUUID } from 'node:crypto';

/** A small, realistic test payload for a scheme (Stripe and Slack carry their delivery id in the body). */
export const sampleBody = (schemeName: string): string => {
  const id = randomUUID().replaceAll('-', '').slice(0, 24);
  switch (schemeName) {
    case 'stripe':
      return JSON.stringify({ id: `evt_${id}`, object: 'event', type: 'hookwarden.test', data: { object: { hello: 'world' } } });
    case 'slack':
      return JSON.stringify({ type: 'event_callback', event_id: `Ev${id.toUpperCase()}`, event: { type: 'hookwarden_test' } });
    default:
      return JSON.stringify({ type: 'hookwarden.test', data: { hello: 'world' } });
  }
};

/** Quotes a string for a POSIX shell. */
export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'"'"'`)}'`;
