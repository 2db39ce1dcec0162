/** Where the functions' custom metrics land: what the alarms and dashboard of the same stack read. */
export interface MetricsIdentity {
  /** CloudWatch namespace (`POWERTOOLS_METRICS_NAMESPACE`). */
  readonly namespace: string;
  /** The `service` dimension on every metric (`POWERTOOLS_SERVICE_NAME`). */
  readonly service: string;
}

/**
 * The metrics identity of one stack: namespace and service both carry the
 * stack's name (and so its stage), so two stages in one account and region
 * never read each other's metrics: dev's forged requests cannot trip prod's alarms.
 * @example metricsIdentity('Hookwarden-prod') // { namespace: 'Hookwarden-prod', service: 'hookwarden-prod' }
 */
export const metricsIdentity = (stackName: string): MetricsIdentity => ({ namespace: stackName, service: stackName.toLowerCase() });
