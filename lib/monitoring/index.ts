/**
 * Monitoring: abuse is noticed. The public surface of `lib/monitoring/`; what is not exported
 * here is the folder's own business.
 */
export {
  type ContributorInsightsRuleBody,
  maxContributorExpression,
  topCallersRuleBody,
} from './contributor-insights';
export { refusalsByReasonQuery } from './dashboard';
export { DEFAULT_NAMESPACE, METRIC_NAMES, TOOL_DIMENSION } from './metrics';
export { Monitoring, type MonitoringProps, MonitoringPropsError } from './monitoring';
export * from './patterns';
