import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, ProjectionType, StreamViewType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { Problems } from '../../core/config/rules.js';
import { ConfigError } from '../../core/errors.js';
import { booleanProp } from './prop-checks.js';
import { DELIVERIES_TABLE, RATE_LIMITS_TABLE, TOKENS_TABLE, type TableDefinition } from '../../core/stores/tables.js';

/** Props of {@link WebhookTables}. */
export interface WebhookTablesProps {
  /**
   * Production keeps data: deletion protection on, RETAIN on stack deletion.
   * @default false
   */
  readonly production?: boolean;
}

/**
 * The deliveries table (replay guard and store, TTL `expiresAt`, a NEW_IMAGE
 * stream for consumers, the time-ordered `byTime` index of the deliveries API,
 * point-in-time recovery), the rate-limits table and the read-tokens table, all
 * on-demand and built from the definitions the local store uses.
 */
export class WebhookTables extends Construct {
  /**
   * One item per accepted delivery (`source#deliveryId`), plus the part items of bodies too large for one item
   * (`~part#…`, which a consumer skips); the replay guard; NEW_IMAGE stream for consumers.
   */
  public readonly deliveries: TableV2;
  /** Sliding-window counters, blocklist entries and source switches. */
  public readonly rateLimits: TableV2;
  /** Read tokens of the deliveries API (only their hashes). */
  public readonly tokens: TableV2;

  constructor(scope: Construct, id: string, props: WebhookTablesProps = {}) {
    super(scope, id);
    const problems = new Problems();
    booleanProp(problems, 'production', props.production);
    if (problems.items.length > 0) throw new ConfigError(problems.items);
    const production = props.production ?? false;
    const table = (definition: TableDefinition): TableV2 =>
      new TableV2(this, definition.id, {
        partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
        timeToLiveAttribute: definition.ttlAttribute,
        ...(definition.stream ? { dynamoStream: StreamViewType.NEW_IMAGE } : {}),
        ...(definition.indexes?.length
          ? {
              globalSecondaryIndexes: definition.indexes.map((index) => ({
                indexName: index.name,
                partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
                sortKey: { name: index.sortKey, type: AttributeType.STRING },
                projectionType: ProjectionType.INCLUDE,
                nonKeyAttributes: [...index.include],
              })),
            }
          : {}),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryptionV2.awsManagedKey(),
        deletionProtection: production,
        removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
    this.deliveries = table(DELIVERIES_TABLE);
    this.rateLimits = table(RATE_LIMITS_TABLE);
    this.tokens = table(TOKENS_TABLE);
  }
}
