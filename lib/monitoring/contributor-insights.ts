/**
 * Contributor Insights: the top-callers rule over the MCP log, the metric-math expression the
 * abuse alarm reads from it, and the dashboard widget that draws it.
 */
import { type Duration, Names, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../../lambda/shared/audit';
import { selector } from './patterns';

/** How many contributors the dashboard's top-callers graph shows. */
const TOP_CONTRIBUTORS = 10;

/** A Contributor Insights rule over CloudWatch Logs JSON records. */
export interface ContributorInsightsRuleBody {
  readonly Schema: { readonly Name: 'CloudWatchLogRule'; readonly Version: 1 };
  readonly LogGroupNames: readonly string[];
  readonly LogFormat: 'JSON';
  readonly Contribution: {
    readonly Keys: readonly string[];
    readonly Filters: readonly { readonly Match: string; readonly In: readonly string[] }[];
  };
  readonly AggregateOn: 'Count';
}

/**
 * The top-callers rule: counts `tools/call` records per (caller, tool) in the MCP log group.
 * Caller ids are unbounded, which rules them out as metric dimensions; Contributor Insights is
 * built for exactly that cardinality.
 */
export function topCallersRuleBody(mcpLogGroupName: string): ContributorInsightsRuleBody {
  return {
    Schema: { Name: 'CloudWatchLogRule', Version: 1 },
    LogGroupNames: [mcpLogGroupName],
    LogFormat: 'JSON',
    Contribution: {
      Keys: [selector(AUDIT_FIELDS.caller), selector(AUDIT_FIELDS.tool)],
      Filters: [{ Match: selector(AUDIT_FIELDS.event), In: [AUDIT_EVENTS.toolCall] }],
    },
    AggregateOn: 'Count',
  };
}

/** The top-callers rule in `scope`, named after it. */
export function createTopCallersRule(
  scope: Construct,
  mcpLogGroup: logs.ILogGroup,
): cloudwatch.CfnInsightRule {
  return new cloudwatch.CfnInsightRule(scope, 'TopCallersRule', {
    ruleName: `${Names.uniqueResourceName(scope, { maxLength: 100, separator: '-' })}-TopCallers`,
    ruleState: 'ENABLED',
    ruleBody: Stack.of(scope).toJsonString(topCallersRuleBody(mcpLogGroup.logGroupName)),
  });
}

/** The metric-math expression for the largest single contributor of a rule in each period. */
export function maxContributorExpression(ruleName: string): string {
  return `INSIGHT_RULE_METRIC('${ruleName}', 'MaxContributorValue')`;
}

/**
 * The dashboard's top-callers graph: a metric widget whose source is a Contributor Insights
 * rule. This is the widget the CloudWatch console creates from "Add to dashboard" on a rule; it
 * draws one line per contributor, labelled with its keys (caller, tool). A `GraphWidget` over
 * `INSIGHT_RULE_METRIC` could only draw the top value without saying whose it is, and
 * `CustomWidget` is a Lambda-rendered widget. The CDK has no class for it, hence this one.
 */
export class ContributorInsightsWidget extends cloudwatch.ConcreteWidget {
  readonly #title: string;
  readonly #ruleName: string;
  readonly #region: string;
  readonly #period: Duration;

  constructor(props: {
    title: string;
    ruleName: string;
    region: string;
    period: Duration;
    width: number;
    height: number;
  }) {
    super(props.width, props.height);
    this.#title = props.title;
    this.#ruleName = props.ruleName;
    this.#region = props.region;
    this.#period = props.period;
  }

  toJson(): unknown[] {
    return [
      {
        type: 'metric',
        width: this.width,
        height: this.height,
        x: this.x,
        y: this.y,
        properties: {
          title: this.#title,
          region: this.#region,
          view: 'timeSeries',
          stacked: false,
          period: this.#period.toSeconds(),
          insightRule: {
            ruleName: this.#ruleName,
            maxContributorCount: TOP_CONTRIBUTORS,
            orderBy: 'Sum',
          },
          legend: { position: 'right' },
        },
      },
    ];
  }
}
