import type { ConfigDescription } from './model.js';
import { acceptedRisks, proxyRanges, type Risk } from './risks.js';
import { list, origins, type Problems, stringArray } from './rules.js';
import { ignoredVariables, readDocument, sourceFromEnvironment, sourcesFromDocument } from './sources.js';

/** Values given by the caller in place of the file's and the environment's (the CDK app's context). */
export interface DescribeOverrides {
  /** CORS origins, and the name problems with them are reported under. @default - `CORS_ORIGINS`, else the file's `corsOrigins` */
  readonly corsOrigins?: { readonly values: readonly string[]; readonly where: string };
  /** Refuse a `secretArn` that is not a complete ARN (the deploy's grants and audit need one; the functions take a name too). @default false */
  readonly completeSecretArns?: boolean;
}

/** What {@link describeSources} found: the description, where its sources came from, and the risks acknowledged. */
export interface Described {
  readonly description: ConfigDescription;
  /** The config file's path, `HOOKWARDEN_CONFIG_JSON`, or `environment`. */
  readonly origin: string;
  readonly accepted: ReadonlySet<Risk>;
}

/**
 * The one parser: the config document (or the `WEBHOOK_*` variables) and the
 * environment, every rule checked, into a serializable description. Secret
 * values are never read here (only the names of their variables or secrets).
 */
export const describeSources = (problems: Problems, env: NodeJS.ProcessEnv, cwd: string, overrides: DescribeOverrides = {}): Described => {
  const file = readDocument(problems, env, cwd);
  const accepted = acceptedRisks(problems, env, file?.document, file?.origin);
  if (file) ignoredVariables(problems, file.document, file.origin, env);
  const sources = file
    ? sourcesFromDocument(problems, file.document, file.origin, accepted, overrides.completeSecretArns ?? false)
    : [sourceFromEnvironment(problems, env, accepted)];

  const corsOrigins = overrides.corsOrigins
    ? origins(problems, overrides.corsOrigins.where, overrides.corsOrigins.values)
    : env.CORS_ORIGINS !== undefined
      ? origins(problems, 'CORS_ORIGINS', list(env.CORS_ORIGINS))
      : origins(
          problems,
          `${file?.origin ?? 'config'} corsOrigins`,
          stringArray(problems, `${file?.origin} corsOrigins`, file?.document.corsOrigins),
        );
  const trustedProxies =
    env.TRUSTED_PROXIES !== undefined
      ? proxyRanges(problems, 'TRUSTED_PROXIES', list(env.TRUSTED_PROXIES), accepted)
      : proxyRanges(
          problems,
          `${file?.origin} trustedProxies`,
          stringArray(problems, `${file?.origin} trustedProxies`, file?.document.trustedProxies),
          accepted,
        );

  return {
    description: { sources, corsOrigins, trustedProxies, acceptRisks: [...accepted] },
    origin: file?.origin ?? 'environment',
    accepted,
  };
};
