/**
 * One row is all it takes: the alarm table (`lib/monitoring/alarms.ts`) and the metric-filter
 * table are what the Monitoring construct creates in each configuration, what the `-c` keys and
 * their defaults are, what the dashboard lists and draws, and what the cost model counts. No
 * other file names an alarm.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { beforeAll, describe, expect, it } from 'vitest';
import { REFUSED_REGISTRATIONS_METRIC } from '../../../../lib/client-registration';
import { CONFIG_KEYS, loadConfig } from '../../../../lib/config';
import {
  ALARMS,
  type AlarmSpec,
  alarmsFor,
  customMetricCount,
  DEFAULT_WINDOW_MINUTES,
  METRIC_FILTERS,
  METRIC_NAMES,
  MONITORING_FEATURES,
  type MonitoredFeatures,
  Monitoring,
  type MonitoringFeature,
  metricFiltersFor,
} from '../../../../lib/monitoring';
import type { SecureMcpStackProps } from '../../../../lib/secure-mcp-stack';
import { STACK_INVENTORY } from '../../../../tools/cost/model';
import { FIXTURE_RULES, fixtureModule } from '../../../support/fixture-deployment';
import { FIXTURE_STACK_MODULES } from '../../../support/fixture-infra';
import { buildFixture, logicalId, TOOL_NAMES } from '../../../support/monitoring-fixture';
import { synthStack } from '../../../support/stack-fixture';
import { render } from '../../../support/template-helpers';

const ROWS = ALARMS as readonly AlarmSpec[];
const FEATURES = Object.keys(MONITORING_FEATURES) as MonitoringFeature[];
const withFeatures = (...on: MonitoringFeature[]): MonitoredFeatures =>
  Object.fromEntries(FEATURES.map((feature) => [feature, on.includes(feature)])) as Record<
    MonitoringFeature,
    boolean
  >;
/** What the stack deploys by default: every feature (the example module has rules). */
const DEFAULT_DEPLOYMENT = withFeatures(...FEATURES);

/** Every combination of features: 2^5 deployments. */
const EVERY_COMBINATION: MonitoredFeatures[] = Array.from(
  { length: 2 ** FEATURES.length },
  (_, n) => withFeatures(...FEATURES.filter((_, bit) => (n >> bit) & 1)),
);

/**
 * The rows a deployment has, read off the tables here rather than through `alarmsFor` and
 * `metricFiltersFor`, which the construct uses: a fault there must not hide from the test.
 */
const present = (when: MonitoringFeature | undefined, features: MonitoredFeatures) =>
  when === undefined || features[when];
const rowsFor = (features: MonitoredFeatures) => ROWS.filter((row) => present(row.when, features));
/** The log groups only some deployments have. */
const LOG_GROUP_FEATURE: Partial<Record<string, MonitoringFeature>> = {
  access: 'accessLog',
  oauthProxy: 'oauthProxy',
};
const filtersFor = (features: MonitoredFeatures) =>
  METRIC_FILTERS.filter(
    (filter) =>
      present(LOG_GROUP_FEATURE[filter.logGroup], features) && present(filter.when, features),
  );

/** A deployment under test: what it has and sets, and the stack and Monitoring it synthesizes. */
interface Deployment {
  readonly name: string;
  readonly features: MonitoredFeatures;
  /** The threshold props it sets; the others take their row's default. */
  readonly thresholds: Readonly<Record<string, number>>;
  readonly window: Duration;
  readonly stack: Stack;
  readonly monitoring: Monitoring;
  readonly template: Template;
}

/** The stack built from `-c` values (and modules), with its Monitoring. */
function stackDeployment(
  name: string,
  features: MonitoredFeatures,
  context: Record<string, unknown>,
  modules?: SecureMcpStackProps['modules'],
): Deployment {
  const { stack, template } = synthStack(context, modules === undefined ? {} : { modules });
  const monitoring = stack.node.findChild('Monitoring');
  if (!(monitoring instanceof Monitoring)) throw new Error('The stack has no Monitoring');
  const thresholds = Object.fromEntries(
    Object.entries(context)
      .filter(([key]) => key.endsWith('Threshold'))
      .map(([key, value]) => [key, Number(value)]),
  );
  const window = Duration.minutes(DEFAULT_WINDOW_MINUTES);
  return { name, features, thresholds, window, stack, monitoring, template };
}

/** Distinct thresholds for every threshold prop, so each can be told apart. */
const TUNED = Object.fromEntries(
  ROWS.flatMap(({ threshold }, index) =>
    'prop' in threshold ? [[threshold.prop, threshold.default + 100 + index]] : [],
  ),
) as Record<string, number>;

/** The Monitoring construct alone, with these features and the tuned thresholds. */
function constructDeployment(name: string, features: MonitoredFeatures): Deployment {
  const window = Duration.minutes(15);
  const { stack, monitoring, template } = buildFixture(
    {
      ...TUNED,
      abuseWindow: window,
      argumentRules: features.argumentRules,
      quotas: features.quotas,
      ...(features.clientRegistration
        ? {
            refusedRegistrations: new cloudwatch.Metric({
              namespace: 'SecureMcp',
              metricName: REFUSED_REGISTRATIONS_METRIC,
            }),
          }
        : {}),
    },
    {},
    { oauthProxy: features.oauthProxy, accessLog: features.accessLog },
  );
  return { name, features, thresholds: TUNED, window, stack, monitoring, template };
}

/** The fixture deployment with argument rules, and (its default) without. */
const withRules = { ...FIXTURE_STACK_MODULES, list: [{ ...fixtureModule, rules: FIXTURE_RULES }] };
const withoutRules = FIXTURE_STACK_MODULES;

/** Each `-c` threshold key set to its default plus one. */
const CONFIGURED = Object.fromEntries(
  ROWS.flatMap(({ threshold }) =>
    'prop' in threshold && threshold.config === true
      ? [[threshold.prop, String(threshold.default + 1)]]
      : [],
  ),
);

/** The logical id of the alarm (or filter) `id` of a deployment's Monitoring. */
const idOf = (deployment: Deployment, id: string) =>
  logicalId(deployment.monitoring.node.findChild(id));
const idsOf = (template: Template, type: string) =>
  Object.keys(template.findResources(type)).sort();
type Properties = Record<string, unknown>;
const propertiesOf = (deployment: Deployment, id: string) =>
  (deployment.template.toJSON().Resources[idOf(deployment, id)] as { Properties: Properties })
    .Properties;

interface Widget {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly metrics?: unknown[][];
    readonly annotations?: { horizontal: { value: number; label: string }[] };
    readonly alarms?: string[];
  };
}
const widgetsOf = (template: Template): Widget[] => {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as {
    Properties: { DashboardBody: unknown };
  }[];
  return JSON.parse(render(dashboard?.Properties.DashboardBody)).widgets;
};
/** The metric name an alarm row graphs, if it is one the dashboard draws. */
const graphedName = (spec: AlarmSpec) =>
  spec.metric.kind === 'audit'
    ? METRIC_NAMES[spec.metric.name]
    : spec.metric.kind === 'refusedRegistrations'
      ? REFUSED_REGISTRATIONS_METRIC
      : undefined;

describe('the alarm table', () => {
  it('gives every alarm and every metric filter its own construct id', () => {
    // Act
    const alarmIds = ROWS.map((row) => row.id);
    const filterIds = METRIC_FILTERS.map((row) => row.id);

    // Assess
    expect(new Set(alarmIds).size).toBe(alarmIds.length);
    expect(new Set(filterIds).size).toBe(filterIds.length);
  });

  it('never has an alarm on an audit metric where no filter counts it, whatever the deployment', () => {
    // Act
    const uncounted = EVERY_COMBINATION.flatMap((features) => {
      const counted = new Set(metricFiltersFor(features).map((filter) => filter.metric));
      return alarmsFor(features).flatMap((alarm) =>
        alarm.metric.kind === 'audit' && !counted.has(alarm.metric.name)
          ? [`${alarm.id} with ${JSON.stringify(features)}`]
          : [],
      );
    });

    // Assess
    expect(uncounted).toEqual([]);
  });

  it('names no alarm anywhere in lib/, tools/ or bin/ but its row', () => {
    // Prepare
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    const sources = ['lib', 'tools', 'bin'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .map((file) => join(root, dir, file)),
    );

    // Act
    const naming = ROWS.flatMap(({ id }) =>
      sources
        .filter((file) => readFileSync(file, 'utf8').includes(`'${id}'`))
        .map((file) => `${id}: ${relative(root, file)}`),
    );

    // Assess
    expect(naming).toEqual(ROWS.map(({ id }) => `${id}: lib/monitoring/alarms.ts`));
  });
});

describe('one row is all it takes', () => {
  const deployments: Deployment[] = [];
  const stacks: Deployment[] = [];

  beforeAll(() => {
    stacks.push(
      stackDeployment(
        'the stack, every -c threshold set',
        DEFAULT_DEPLOYMENT,
        CONFIGURED,
        withRules,
      ),
      stackDeployment(
        'the stack with -c enableQuotas=false',
        withFeatures(...FEATURES.filter((f) => f !== 'quotas')),
        {
          enableQuotas: 'false',
        },
        withRules,
      ),
      stackDeployment(
        'the stack without argument rules',
        withFeatures(...FEATURES.filter((f) => f !== 'argumentRules')),
        {},
        withoutRules,
      ),
    );
    deployments.push(
      ...stacks,
      constructDeployment('the construct alone', withFeatures()),
      constructDeployment('the construct with the OAuth proxy', withFeatures('oauthProxy')),
      constructDeployment(
        'the construct with client registration',
        withFeatures('clientRegistration'),
      ),
      constructDeployment('the construct with argument rules', withFeatures('argumentRules')),
      constructDeployment(
        'the construct with quotas and the access log',
        withFeatures('quotas', 'accessLog'),
      ),
      constructDeployment('the construct with everything', DEFAULT_DEPLOYMENT),
    );
  });
  const each = (test: (deployment: Deployment) => void) => () => {
    expect(deployments.length).toBeGreaterThan(0);
    for (const deployment of deployments) test(deployment);
  };

  it(
    'creates exactly the alarms whose condition holds, in every configuration',
    each((deployment) => {
      // Act
      const expected = rowsFor(deployment.features).map((row) => idOf(deployment, row.id));

      // Assess
      expect(idsOf(deployment.template, 'AWS::CloudWatch::Alarm'), deployment.name).toEqual(
        expected.sort(),
      );
      expect(
        deployment.monitoring.alarms.map((alarm) => alarm.node.id),
        deployment.name,
      ).toEqual(rowsFor(deployment.features).map((row) => row.id));
    }),
  );

  it(
    'creates exactly the metric filters whose condition holds, in every configuration',
    each((deployment) => {
      // Act
      const expected = filtersFor(deployment.features).map((row) => idOf(deployment, row.id));
      const monitoringPath = `${deployment.monitoring.node.path}/`;
      const ours = deployment.stack.node
        .findAll()
        .filter(
          (construct) =>
            construct.node.path.startsWith(monitoringPath) &&
            construct.node.defaultChild !== undefined &&
            (construct.node.defaultChild as { cfnResourceType?: string }).cfnResourceType ===
              'AWS::Logs::MetricFilter',
        )
        .map((construct) => logicalId(construct));

      // Assess
      expect(ours.sort(), deployment.name).toEqual(expected.sort());
    }),
  );

  it(
    "gives each alarm its row's threshold, comparison, period, description and topic",
    each((deployment) => {
      for (const row of rowsFor(deployment.features)) {
        // Prepare
        const properties = propertiesOf(deployment, row.id);
        const period = row.period === 'window' ? deployment.window : Duration.minutes(5);
        const threshold =
          'fixed' in row.threshold
            ? row.threshold.fixed
            : (deployment.thresholds[row.threshold.prop] ?? row.threshold.default);
        const metrics = properties.Metrics as {
          Period?: number;
          MetricStat?: { Period: number };
        }[];

        // Assess
        expect(properties, `${deployment.name}: ${row.id}`).toMatchObject({
          Threshold: threshold,
          ComparisonOperator:
            row.comparison === 'above' ? 'GreaterThanThreshold' : 'GreaterThanOrEqualToThreshold',
          AlarmDescription: row.description(threshold, period.toHumanString()),
          AlarmActions: [{ Ref: logicalId(deployment.monitoring.alarmTopic) }],
        });
        expect(
          metrics === undefined
            ? properties.Period
            : (metrics[0]?.Period ?? metrics[0]?.MetricStat?.Period),
          `${deployment.name}: ${row.id}`,
        ).toBe(period.toSeconds());
      }
    }),
  );

  it(
    'lists every alarm on the dashboard, in table order',
    each((deployment) => {
      // Act
      const statuses = widgetsOf(deployment.template).filter((widget) => widget.type === 'alarm');

      // Assess
      expect(
        statuses.map((widget) => widget.properties.alarms),
        deployment.name,
      ).toEqual([rowsFor(deployment.features).map((row) => `<${idOf(deployment, row.id)}.Arn>`)]);
    }),
  );

  it(
    "draws each row's threshold line, at the threshold in effect, on the graph of its metric, and no other",
    each((deployment) => {
      // Prepare
      const graphs = widgetsOf(deployment.template).filter((widget) => widget.type === 'metric');
      const thresholdOf = (row: AlarmSpec) => propertiesOf(deployment, row.id).Threshold as number;

      // Act: each threshold line, with the metrics of its graph
      const drawn = graphs.flatMap((graph) =>
        (graph.properties.annotations?.horizontal ?? []).map(({ value, label }) => ({
          label,
          value,
          graphs: (graph.properties.metrics ?? []).map((metric) => metric[1]),
        })),
      );
      const expected = rowsFor(deployment.features).flatMap((row) =>
        row.annotation === undefined
          ? []
          : [{ label: row.annotation, value: thresholdOf(row), graphs: graphedName(row) }],
      );

      // Assess
      const byLabel = (a: { label: string }, b: { label: string }) =>
        a.label.localeCompare(b.label);
      expect(
        drawn.map(({ label, value }) => ({ label, value })).sort(byLabel),
        deployment.name,
      ).toEqual(expected.map(({ label, value }) => ({ label, value })).sort(byLabel));
      for (const line of expected) {
        const graph = drawn.find(({ label }) => label === line.label)?.graphs;
        expect(graph, `${deployment.name}: ${line.label}`).toContain(line.graphs);
      }
    }),
  );

  it(
    'graphs the metric of every alarm on a counted metric',
    each((deployment) => {
      // Act
      const graphed = new Set(
        widgetsOf(deployment.template).flatMap((widget) =>
          (widget.properties.metrics ?? []).map((metric) => metric[1]),
        ),
      );
      const missing = rowsFor(deployment.features)
        // Refused registrations are drawn in the OAuth proxy's row, which needs the proxy: the
        // stack always has both, the construct alone may be given registrations without it.
        .filter(
          (row) => row.metric.kind !== 'refusedRegistrations' || deployment.features.oauthProxy,
        )
        .map(graphedName)
        .filter((name) => name !== undefined && !graphed.has(name));

      // Assess
      expect(missing, deployment.name).toEqual([]);
    }),
  );

  it('counts the custom metrics of each stack as the cost model counts them from the table', () => {
    for (const deployment of stacks) {
      // Act: what CloudWatch bills, from the template (see the cost model's own test)
      const perName = new Map<string, number>();
      for (const filter of Object.values(
        deployment.template.findResources('AWS::Logs::MetricFilter'),
      ) as {
        Properties: { MetricTransformations: { MetricName: string; Dimensions?: unknown[] }[] };
      }[]) {
        for (const t of filter.Properties.MetricTransformations) {
          perName.set(t.MetricName, (t.Dimensions ?? []).length > 0 ? TOOL_NAMES.length + 1 : 1);
        }
      }
      const billed = [...perName.values()].reduce((total, count) => total + count, 0);

      // Assess
      expect(billed, deployment.name).toBe(
        customMetricCount(deployment.features, TOOL_NAMES.length),
      );
    }
  });

  it("prices the default deployment's alarms and custom metrics as the table counts them", () => {
    // Prepare: the stack with default features (its thresholds differ, not its alarms)
    const [defaults] = stacks;
    if (defaults === undefined) throw new Error('no stack');

    // Assess
    expect(STACK_INVENTORY.alarms).toBe(rowsFor(DEFAULT_DEPLOYMENT).length);
    expect(STACK_INVENTORY.alarms).toBe(idsOf(defaults.template, 'AWS::CloudWatch::Alarm').length);
    expect(STACK_INVENTORY.customMetrics).toBe(
      customMetricCount(DEFAULT_DEPLOYMENT, TOOL_NAMES.length),
    );
  });

  it('hands every -c threshold to its alarm', () => {
    // Prepare
    const [configured] = stacks;
    if (configured === undefined) throw new Error('no stack');
    const rows = ROWS.filter(({ threshold }) => 'config' in threshold);

    // Act
    const thresholds = rows.map((row) => propertiesOf(configured, row.id).Threshold);

    // Assess
    expect(rows.length).toBeGreaterThan(0);
    expect(thresholds).toEqual(
      rows.map((row) => Number(CONFIGURED[(row.threshold as { prop: string }).prop])),
    );
  });
});

describe('the configuration of the alarms', () => {
  const rows = ROWS.flatMap(({ threshold }) =>
    'prop' in threshold && threshold.config === true ? [threshold] : [],
  );

  it('has a -c key for exactly the rows that name one, and no other threshold key', () => {
    // Act
    const keys = CONFIG_KEYS.filter((key) => key.endsWith('Threshold'));

    // Assess
    expect([...keys].sort()).toEqual(rows.map((row) => row.prop).sort());
  });

  it("defaults each -c threshold and the window to the table's", () => {
    // Act
    const config = loadConfig(() => undefined) as unknown as Record<string, unknown>;

    // Assess
    for (const row of rows) expect(config[row.prop], row.prop).toBe(row.default);
    expect(config.abuseWindowMinutes).toBe(DEFAULT_WINDOW_MINUTES);
  });

  it("keeps cdk.json's alarm settings at the table's defaults", () => {
    // Prepare
    const cdkJson = JSON.parse(
      readFileSync(new URL('../../../../cdk.json', import.meta.url), 'utf8'),
    ) as { context: Record<string, unknown> };
    const defaults: Record<string, number> = {
      ...Object.fromEntries(rows.map((row) => [row.prop, row.default])),
      abuseWindowMinutes: DEFAULT_WINDOW_MINUTES,
    };

    // Act
    const named = Object.keys(defaults).filter((key) => key in cdkJson.context);

    // Assess
    expect(named.length).toBeGreaterThan(0);
    for (const key of named) expect(cdkJson.context[key], key).toBe(defaults[key]);
  });
});
