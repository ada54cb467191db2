/**
 * Monitoring: abuse is noticed. The public surface of `lib/monitoring/`: the construct, the
 * alarm and metric-filter tables and the names the metrics publish under. The filter patterns
 * (`patterns.ts`) and the Contributor Insights rule (`contributor-insights.ts`) are read from
 * their own files by the tests that hold them to real records; `lib/config.ts` reads
 * `alarms.ts` alone, plain data, so the CLIs that load the configuration skip the construct.
 */
export {
  ALARMS,
  type AlarmId,
  type AlarmMetric,
  type AlarmSpec,
  type AlarmThreshold,
  alarmsFor,
  configuredThresholds,
  DEFAULT_WINDOW_MINUTES,
  type ThresholdConfigKey,
  thresholdConfigDefaults,
} from './alarms';
export { MONITORING_FEATURES, type MonitoredFeatures, type MonitoringFeature } from './features';
export { customMetricCount, METRIC_FILTERS, metricFiltersFor } from './metric-filters';
export { DEFAULT_NAMESPACE, METRIC_NAMES, type MetricKey, TOOL_DIMENSION } from './metrics';
export { Monitoring, type MonitoringProps, MonitoringPropsError } from './monitoring';
