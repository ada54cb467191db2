/**
 * The alarm table as docs/alarms.md shows it, rendered from the rows: what fires each alarm by
 * default, on which metric, what sets its threshold, when it exists, and what to do.
 * `test/unit/docs/alarms-doc.test.ts` holds the page to it.
 */
import {
  REFUSED_REGISTRATIONS_METRIC,
  REGISTRATION_METRIC_NAMESPACE,
} from '../client-registration';
import { ALARMS, type AlarmMetric, type AlarmSpec, DEFAULT_WINDOW_MINUTES } from './alarms';
import { MONITORING_FEATURES } from './features';
import { DEFAULT_NAMESPACE, METRIC_NAMES } from './metrics';

/** The markers docs/alarms.md keeps the table between. */
export const ALARM_TABLE_MARKERS = {
  start: '<!-- alarm-table:start -->',
  end: '<!-- alarm-table:end -->',
} as const;

function metricText(metric: AlarmMetric): string {
  switch (metric.kind) {
    case 'audit':
      return `\`${DEFAULT_NAMESPACE}\` \`${METRIC_NAMES[metric.name]}\``;
    case 'topCaller':
      return 'Contributor Insights: calls of the top (caller, tool)';
    case 'refusedRegistrations':
      return `\`${REGISTRATION_METRIC_NAMESPACE}\` \`${REFUSED_REGISTRATIONS_METRIC}\``;
    case 'mcpFunction':
      return `\`AWS/Lambda\` \`${metric.name}\` of the MCP function`;
    case 'apiStage':
      return `\`AWS/ApiGateway\` \`${metric.name}\` of the stage`;
  }
}

function firesWhen(alarm: AlarmSpec): string {
  const { threshold } = alarm;
  const value = 'fixed' in threshold ? threshold.fixed : threshold.default;
  const count = alarm.comparison === 'above' ? `more than ${value}` : `${value} or more`;
  return alarm.period === 'window' ? `${count} in the window` : `${count} in 5 minutes`;
}

function setWith(alarm: AlarmSpec): string {
  const { threshold } = alarm;
  if ('fixed' in threshold) return '—';
  return threshold.config === true
    ? `\`-c ${threshold.prop}\``
    : `\`${threshold.prop}\` (construct prop)`;
}

/** A table cell: one line, no unescaped pipe. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The Markdown table of every alarm, with its default threshold and a five-minute window. */
export function alarmTableMarkdown(): string {
  const window = `${DEFAULT_WINDOW_MINUTES} minutes`;
  const rows = (ALARMS as readonly AlarmSpec[]).map((alarm) => {
    const { threshold } = alarm;
    const value = 'fixed' in threshold ? threshold.fixed : threshold.default;
    return [
      `\`${alarm.id}\``,
      firesWhen(alarm),
      metricText(alarm.metric),
      setWith(alarm),
      alarm.when === undefined ? 'always' : `with ${MONITORING_FEATURES[alarm.when]}`,
      `${alarm.description(value, window)} **What to do:** ${alarm.response}`,
    ].map(cell);
  });
  return [
    '| Alarm | Fires on | Metric | Threshold set with | Exists | What it means, and what to do |',
    '|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}
