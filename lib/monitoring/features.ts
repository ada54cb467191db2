/**
 * What a deployment has that its monitoring depends on. Each is a condition under which some
 * metric filters, alarms and dashboard widgets exist; the Monitoring construct reads them from
 * its props, the cost model states them for the example deployment.
 */

/** Each feature, as the alarm table (docs/alarms.md) names it. */
export const MONITORING_FEATURES = {
  /** The OAuth proxy: its log group is given (`oauthProxyLogGroup`). */
  oauthProxy: 'the OAuth proxy',
  /** OAuth client registration: its refused-registration metric is given (`refusedRegistrations`). */
  clientRegistration: 'client registration',
  /** Some module has argument rules (Cedar) (`argumentRules`). */
  argumentRules: 'argument rules',
  /** The deployment enforces per-caller quotas (`quotas`; `-c enableQuotas`). */
  quotas: 'quotas',
  /** The API stage's access log is given (`accessLogGroup`). */
  accessLog: 'the access log',
} as const;

export type MonitoringFeature = keyof typeof MONITORING_FEATURES;

/** Which features a deployment has. */
export type MonitoredFeatures = Readonly<Record<MonitoringFeature, boolean>>;

/** Whether something that exists only `when` a feature is present exists in this deployment. */
export function holds(when: MonitoringFeature | undefined, features: MonitoredFeatures): boolean {
  return when === undefined || features[when];
}
