import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { ReadWriteType, Trail } from 'aws-cdk-lib/aws-cloudtrail';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** Props of {@link AuditTrail}. */
export interface AuditTrailProps {
  /** How long log files are kept in the bucket. @default Duration.days(365) */
  readonly retention?: Duration;
}

/**
 * A CloudTrail trail that records management events (read and write) to its
 * own encrypted, retained bucket. EventBridge receives CloudTrail management
 * events, `GetSecretValue` among them, only when a trail in the account logs
 * them: without one the secret-access audit never fires. The account's first
 * copy of management events is free; a second trail is billed per event, so
 * an account that already has a trail skips this (context `cloudTrail=existing`).
 *
 * It records its stack's region only, where the secrets it audits are read, and no global service events. A trail
 * of every region, which each stack made, recorded every region's events (IAM's and STS's global ones too) once per
 * region a team deployed the stack to, every copy after the first billed at $2.00 per 100,000 events. An account-wide
 * trail is the account's to make; with one, deploy with `cloudTrail=existing`.
 */
export class AuditTrail extends Construct {
  /** The trail (log file validation on, KMS-encrypted, its stack's region). */
  public readonly trail: Trail;
  /** Its own bucket: private, TLS-only, S3-managed encryption, versioned, retained on stack deletion. */
  public readonly bucket: Bucket;
  /** The key the log files are encrypted with (rotation on). */
  public readonly key: Key;

  constructor(scope: Construct, id: string, props: AuditTrailProps = {}) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'Hookwarden audit trail',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: props.retention ?? Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });
    acknowledge(
      this.bucket,
      'AwsSolutions-S1',
      'The bucket holds CloudTrail log files only and only CloudTrail may write it (bucket policy); server access logs of a log bucket would need yet another bucket, and CloudTrail itself can record reads of these objects as data events.',
    );
    this.trail = new Trail(this, 'Trail', {
      bucket: this.bucket,
      encryptionKey: this.key,
      managementEvents: ReadWriteType.ALL,
      includeGlobalServiceEvents: false,
      isMultiRegionTrail: false,
      enableFileValidation: true,
    });
  }
}
