import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { awsClientSettings, CONTROL_PLANE_REQUEST_TIMEOUT_MS } from '../core/aws-client-settings.js';
import { StoreUnavailableError } from '../core/errors.js';
import { createDynamoDbClient } from '../core/stores/dynamodb-client.js';
import { DynamoDbControlsStore, type ControlsStore } from '../core/stores/controls-store.js';
import { RATE_LIMITS_TABLE, tableName } from '../core/stores/tables.js';
import { withStoreClient } from './commands/deliveries.js';
import { outputKey, sourceOfOutputKey, type SourceOutput } from '../lib/stack-outputs.js';
import { CommandFailed, configOf, type CliContext } from './context.js';

/** AWS clients, injectable for tests. */
export interface AwsClients {
  /** Each client in `region` when given (a deployed stack's, or the one an ARN names); without one, the environment's. */
  cloudFormation(region?: string): CloudFormationClient;
  dynamodb(region?: string): DynamoDBClient;
  wafv2(region?: string): WAFV2Client;
  secretsManager(region?: string): SecretsManagerClient;
}

/**
 * The region an ARN names (`arn:aws:wafv2:eu-west-1:…` is `eu-west-1`); `undefined` for a name, or an ARN of a global
 * service. A client left to the environment's region sent a stack's ARN, its secret's or its IP set's to the wrong
 * region's endpoint, which answered that it does not exist.
 * @example regionOfArn('arn:aws:secretsmanager:eu-west-1:123456789012:secret:x') // 'eu-west-1'
 */
export const regionOfArn = (id: string | undefined): string | undefined =>
  /^arn:[^:]+:[^:]+:([a-z]{2}(?:-[a-z]+)+-\d+):/.exec(id ?? '')?.[1];

const inRegion = <T extends object>(settings: T, region: string | undefined): T => (region ? { ...settings, region } : settings);

// Each attempt ends after its timeout and is retried, as on the request path (core/aws-client-settings.ts).
const controlPlane = awsClientSettings({ requestTimeoutMs: CONTROL_PLANE_REQUEST_TIMEOUT_MS });

/** The SDK's default clients (credentials and region from the environment, as the AWS CLI). */
export const defaultAwsClients: AwsClients = {
  cloudFormation: (region) => new CloudFormationClient(inRegion(controlPlane, region)),
  dynamodb: (region) => createDynamoDbClient(inRegion({}, region)),
  wafv2: (region) => new WAFV2Client(inRegion(controlPlane, region)),
  secretsManager: (region) => new SecretsManagerClient(inRegion(controlPlane, region)),
};

/** A deployed stack as the CLI reads it. */
export interface DeployedStack {
  /** Its outputs, by key (see `lib/stack-outputs.ts`: the stack names them with the same function). */
  readonly outputs: ReadonlyMap<string, string>;
  /** The region CloudFormation found it in (from its stack id), where its tables are; undefined when the id names none. */
  readonly region?: string;
}

/**
 * A deployed stack's outputs and region. Descriptions are never read. The region is the stack's own: CloudFormation
 * finds the stack in the profile's region, and the DynamoDB client, left to itself, took `AWS_REGION` or us-east-1.
 */
export const readStack = async (aws: AwsClients, stack: string): Promise<DeployedStack> => {
  try {
    // A stack given by its ARN is looked for in the ARN's region, not the environment's.
    const described = (await aws.cloudFormation(regionOfArn(stack)).send(new DescribeStacksCommand({ StackName: stack }))).Stacks?.[0];
    const region = regionOfArn(described?.StackId);
    return {
      outputs: new Map(
        (described?.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue] as const] : [])),
      ),
      ...(region ? { region } : {}),
    };
  } catch (error) {
    throw new CommandFailed(`cannot read stack ${stack}: ${(error as Error).message}`);
  }
};

/** The outputs of a deployed stack, by key ({@link readStack}). */
export const readStackOutputs = async (aws: AwsClients, stack: string): Promise<ReadonlyMap<string, string>> =>
  (await readStack(aws, stack)).outputs;

/** The output of `source` of kind `output` in a stack's outputs, looked up by key. */
export const sourceOutput = (outputs: ReadonlyMap<string, string>, output: SourceOutput, source: string): string | undefined =>
  [...outputs].find(([key]) => sourceOfOutputKey(output, key) === source)?.[1];

/**
 * A table's failure in an operator's words: the store translates throttling and timeouts into an
 * HTTP 503 ({@link StoreUnavailableError}, written for a webhook sender); this names the table and
 * gives the cause, what happened.
 */
export const tableProblem = (error: unknown, table = 'table'): string =>
  error instanceof StoreUnavailableError
    ? `the ${table} is throttling or did not answer (${(error.cause as Error | undefined)?.message ?? 'unavailable'})`
    : `the ${table} refused it (${(error as Error).message})`;

/** Where containment commands act: the controls item, the known sources, and the WAF IP sets when deployed. */
export interface ContainmentTarget {
  readonly controls: ControlsStore;
  /** The table that holds the controls item (`hookwarden-rate-limits` locally), for messages. */
  readonly table: string;
  readonly sources: ReadonlySet<string>;
  readonly waf?: { readonly client: WAFV2Client; readonly ipv4SetArn?: string; readonly ipv6SetArn?: string };
  readonly where: string;
}

/**
 * Runs `work` with a client for the local store (a running server's endpoint,
 * else the data directory), the configured sources and how to name that store.
 */
export const withLocalStore = <T>(
  context: CliContext,
  work: (client: DynamoDBClient, local: { readonly sources: ReadonlySet<string>; readonly where: string }) => Promise<T>,
): Promise<T> => {
  const config = configOf(context);
  return withStoreClient(context, (client) =>
    work(client, { sources: new Set(config.sources.keys()), where: `the local store in ${context.dataDir}` }),
  );
};

/** DynamoDB's errors that name no table, and what an operator should check. */
const TABLE_REFUSALS: Readonly<Record<string, string>> = {
  ResourceNotFoundException: 'does not exist here: check the stack name, and that AWS_REGION is its region',
  AccessDeniedException: 'refused these credentials: check the IAM permissions of the role or user running the command',
};

/**
 * A table's failure as the command's, naming it (locally and with --stack), in the command line's words rather than
 * the 503 written for a webhook sender: throttled or unreachable, missing, or not allowed (DynamoDB's own messages
 * name no table). Other errors as they are.
 */
export const unavailableTable = (error: unknown, table: string): unknown => {
  if (error instanceof StoreUnavailableError)
    return new CommandFailed(
      `${tableProblem(error, `table ${table}`)}: a change this command makes may not have been made; the same command is safe to run again`,
    );
  const name = (error as { name?: unknown } | undefined)?.name;
  const refusal = typeof name === 'string' && Object.hasOwn(TABLE_REFUSALS, name) ? TABLE_REFUSALS[name] : undefined;
  return refusal ? new CommandFailed(`the table ${table} ${refusal} (${(error as Error).message})`, { cause: error }) : error;
};

/**
 * Runs `work` against the local store (a running server's endpoint, else the
 * data directory) or, with `--stack`, against a deployed stack found through its
 * CloudFormation outputs. One code path: DynamoDB commands either way.
 */
export const withContainmentTarget = async <T>(
  context: CliContext,
  stack: string | undefined,
  work: (target: ContainmentTarget) => Promise<T>,
  aws: AwsClients = defaultAwsClients,
): Promise<T> => {
  if (!stack) {
    const table = tableName(RATE_LIMITS_TABLE, context.env);
    return withLocalStore(context, async (client, local) => {
      try {
        return await work({ controls: new DynamoDbControlsStore({ client, tableName: table }), table, ...local });
      } catch (error) {
        throw unavailableTable(error, table);
      }
    });
  }
  const { outputs, region } = await readStack(aws, stack);
  const table = outputs.get(outputKey('rateLimitsTable'));
  if (!table) throw new CommandFailed(`stack ${stack} has no ${outputKey('rateLimitsTable')} output: is it a Hookwarden stack?`);
  const sources = new Set([...outputs.keys()].flatMap((key) => sourceOfOutputKey('webhookUrl', key) ?? []));
  const ipv4SetArn = outputs.get(outputKey('blockedIpv4Set'));
  const ipv6SetArn = outputs.get(outputKey('blockedIpv6Set'));
  const client = aws.dynamodb(region);
  try {
    return await work({
      controls: new DynamoDbControlsStore({ client, tableName: table }),
      table,
      sources,
      ...(ipv4SetArn || ipv6SetArn
        ? { waf: { client: aws.wafv2(regionOfArn(ipv4SetArn ?? ipv6SetArn) ?? region), ipv4SetArn, ipv6SetArn } }
        : {}),
      where: `stack ${stack}`,
    });
  } catch (error) {
    throw unavailableTable(error, table);
  } finally {
    client.destroy();
  }
};
