/**
 * The two names of the Secrets Manager client a webhook function uses, loaded by dynamic import of this module. A
 * dynamic import of the package itself keeps every command it exports in the bundle (esbuild cannot tell which a
 * namespace object is used for): this module names two, and the rest is tree-shaken.
 */
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
