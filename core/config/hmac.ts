import type { HmacSchemeOptions } from '../schemes/types.js';
import { isObject, KNOWN_KEYS, unknownKeys } from './keys.js';
import { unlessAccepted, type Risk } from './risks.js';
import type { Problems } from './rules.js';

/** How problems name an option: `sources[2].hmac.template` in the file, `WEBHOOK_HMAC_TEMPLATE` in the environment. */
export type HmacKeyNames = (key: keyof HmacSchemeOptions) => string;

/** The variables of the `default` source's hmac options. */
export const HMAC_VARIABLES: Readonly<Record<keyof HmacSchemeOptions, string>> = {
  header: 'WEBHOOK_HMAC_HEADER',
  prefix: 'WEBHOOK_HMAC_PREFIX',
  encoding: 'WEBHOOK_HMAC_ENCODING',
  timestampHeader: 'WEBHOOK_HMAC_TIMESTAMP_HEADER',
  idHeader: 'WEBHOOK_HMAC_ID_HEADER',
  template: 'WEBHOOK_HMAC_TEMPLATE',
};

const ADJACENT = /\{(id|timestamp|body)\}\{(id|timestamp|body)\}/;

/**
 * Checks hmac options where the configuration knows more than the scheme:
 * the shape of the file's `hmac` object, and that every configured header is
 * signed. A `timestampHeader` or `idHeader` whose placeholder is missing from
 * the template would be trusted without being signed; two placeholders side by
 * side let different values sign the same text.
 * @returns the options, or `undefined` when they are not even of the right types (the scheme is then not built)
 */
export const checkHmacOptions = (
  problems: Problems,
  raw: unknown,
  names: HmacKeyNames,
  objectWhere: string,
  accepted: ReadonlySet<Risk>,
): HmacSchemeOptions | undefined => {
  if (!isObject(raw)) {
    problems.add(objectWhere, 'must be an object like {"header":"x-signature","template":"{timestamp}.{body}"}');
    return undefined;
  }
  unknownKeys(problems, (key) => `${objectWhere}.${key}`, raw, KNOWN_KEYS.hmac);
  let typed = true;
  for (const key of KNOWN_KEYS.hmac) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') {
      problems.add(names(key), `must be a string, got ${JSON.stringify(raw[key])}`);
      typed = false;
    }
  }
  if (!typed) return undefined;
  const options = raw as unknown as HmacSchemeOptions;
  const template = options.template || '{body}';
  if (options.timestampHeader && !template.includes('{timestamp}')) {
    problems.add(
      names('timestampHeader'),
      `is set but ${names('template')} has no {timestamp}: the timestamp would not be signed, and a capture with the header rewritten would pass as fresh; add {timestamp} to ${names('template')} or unset ${names('timestampHeader')}`,
    );
  }
  if (options.idHeader && !template.includes('{id}')) {
    problems.add(
      names('idHeader'),
      `is set but ${names('template')} has no {id}: the id would not be signed, so anyone could change it; add {id} to ${names('template')} or unset ${names('idHeader')}`,
    );
  }
  const adjacent = ADJACENT.exec(template);
  if (adjacent) {
    unlessAccepted(
      problems,
      accepted,
      'hmac-template-without-separator',
      names('template'),
      `puts {${adjacent[1]}} and {${adjacent[2]}} side by side, so two different pairs of values sign the same text; put a separator such as "." between them`,
    );
  }
  return options;
};
