/**
 * The deployment's policy from the command line: its role table, and the modules' argument
 * rules (Cedar): check them as `cdk synth` does, print the schema they are written against,
 * and export them for Amazon Bedrock AgentCore Policy.
 *
 *   npm run --silent policy -- roles
 *   npm run --silent policy -- check
 *   npm run --silent policy -- schema [--json]
 *   npm run --silent policy -- export --agentcore <target-name> [--gateway-arn <arn>] [--out <file>]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpModule } from '../../lambda/mcp/module-kit';
import { ruleTargets } from '../../lambda/mcp/rules-schema';
import type { PolicyTable } from '../../lambda/shared/policy';
import { exportText, exportToAgentCore, PLACEHOLDER_GATEWAY_ARN } from '../../lib/agentcore-export';
import { AGENTCORE_MAX_POLICY_BYTES, agentCoreSchema } from '../../lib/agentcore-schema';
import { loadConfig } from '../../lib/config';
import {
  type CedarTools,
  cedarTools,
  formatProblem,
  rulesProblems,
  schemaOf,
} from '../../lib/rules-validation';
import { MODULES } from '../../modules/index';
import { POLICY } from '../../modules/policy';
import { commaList, parseCli, runCli, UsageError } from './common';
import { roleTable } from './role-table';

const USAGE = `usage: npm run --silent policy -- <command> [options]

  check                  validate every module's rules as cdk synth does (exit 1 on a problem)
  roles                  print the role table: which role may use which item (Markdown)
  schema [--json]        print the Cedar schema the rules are written against (--json: its
                         JSON form; with --agentcore <target>: AgentCore Policy's for the tools)
  export --agentcore <target-name>
                         write the rules in AgentCore Policy's names, for a gateway whose
                         target <target-name> serves these tools; what cannot be carried
                         over is listed on stderr and in the output's header
    --gateway-arn <arn>  the gateway's ARN (default: ${PLACEHOLDER_GATEWAY_ARN}, to replace)
    --module <name>      only this module's tools and rules (default: every module)
    --groups-claim <c>   the claim holding the caller's groups (default: cognito:groups)
    --without-roles      leave out the role table (then every signed-in caller reaches every
                         tool there; AgentCore denies what no policy permits)
    --json               the policies as JSON ([{ id, from, text }]) instead of Cedar text
    --out <file>         write to a file instead of stdout

  --claims <a,b>         the claims the authorizer hands on (default: -c ruleClaims in cdk.json)`;

/** What a command wrote: its output, its warnings, and whether it failed. */
export interface PolicyResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** What the commands read: the deployment's modules and role table, and its config. */
export interface PolicyInputs {
  readonly modules: readonly McpModule[];
  readonly policy: PolicyTable;
  /** The claims handed on as tags (`-c ruleClaims`). */
  readonly claims: readonly string[];
  readonly cedar?: () => CedarTools;
}

/** `-c ruleClaims` as cdk.json sets it (the CLI reads no other context). */
function configuredClaims(): string[] {
  const path = resolve(fileURLToPath(new URL('../..', import.meta.url)), 'cdk.json');
  const context = (JSON.parse(readFileSync(path, 'utf8')) as { context?: Record<string, unknown> })
    .context;
  return [...loadConfig((key) => context?.[key]).ruleClaims];
}

/** Run one command; usage errors throw {@link UsageError}. */
export function runPolicy(args: readonly string[], inputs: PolicyInputs): PolicyResult {
  const { values, positionals } = parseCli(
    {
      options: {
        agentcore: { type: 'string' },
        'gateway-arn': { type: 'string' },
        module: { type: 'string' },
        'groups-claim': { type: 'string' },
        'without-roles': { type: 'boolean' },
        claims: { type: 'string' },
        json: { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    },
    [...args],
  );
  const [command, ...rest] = positionals;
  if (values.help) return { stdout: `${USAGE}\n`, stderr: '', exitCode: 0 };
  if (command === undefined) throw new UsageError('a command is required');
  if (rest.length > 0) throw new UsageError(`unexpected ${rest.join(' ')}`);
  const claims = values.claims === undefined ? inputs.claims : commaList(values.claims);
  const cedar = inputs.cedar ?? cedarTools;
  const modules =
    values.module === undefined
      ? inputs.modules
      : inputs.modules.filter((module) => module.name === values.module);
  if (modules.length === 0) {
    throw new UsageError(
      `no module is named ${values.module}: ${inputs.modules.map((m) => m.name).join(', ')}`,
    );
  }

  switch (command) {
    case 'roles':
      return { stdout: `${roleTable(inputs.policy)}\n`, stderr: '', exitCode: 0 };
    case 'check': {
      const roles = Object.keys(inputs.policy.roles);
      const problems = rulesProblems(modules, { roles, claims, cedar });
      const ruled = modules.filter((module) => module.rules !== undefined).map((m) => m.name);
      return problems.length === 0
        ? {
            stdout: `${ruled.length === 0 ? 'No module has rules: Cedar is never loaded.' : `The rules of ${ruled.join(', ')} validate.`}\n`,
            stderr: '',
            exitCode: 0,
          }
        : {
            stdout: '',
            stderr: `${problems.map((problem) => `- ${formatProblem(problem)}`).join('\n')}\n`,
            exitCode: 1,
          };
    }
    case 'schema': {
      const schema =
        values.agentcore === undefined
          ? schemaOf(ruleTargets(modules))
          : agentCoreSchema(modules, values.agentcore);
      if (values.json)
        return { stdout: `${JSON.stringify(schema, null, 2)}\n`, stderr: '', exitCode: 0 };
      const text = cedar().schemaToText(schema as never);
      if (text.type === 'failure') {
        return {
          stdout: '',
          stderr: `${text.errors.map((e) => e.message).join('\n')}\n`,
          exitCode: 1,
        };
      }
      return { stdout: `${text.text}\n`, stderr: '', exitCode: 0 };
    }
    case 'export': {
      const target = values.agentcore;
      if (target === undefined) throw new UsageError('export needs --agentcore <target-name>');
      const problems = rulesProblems(modules, {
        roles: Object.keys(inputs.policy.roles),
        claims,
        cedar,
      });
      if (problems.length > 0) {
        return {
          stdout: '',
          stderr: `The rules do not validate; nothing was exported:\n${problems.map((p) => `- ${formatProblem(p)}`).join('\n')}\n`,
          exitCode: 1,
        };
      }
      const options = {
        target,
        cedar,
        ...(values['gateway-arn'] === undefined ? {} : { gatewayArn: values['gateway-arn'] }),
        ...(values['groups-claim'] === undefined ? {} : { groupsClaim: values['groups-claim'] }),
        ...(values['without-roles'] ? {} : { roles: inputs.policy }),
      };
      const exported = exportToAgentCore(modules, options);
      const output = values.json
        ? `${JSON.stringify(exported.policies, null, 2)}\n`
        : exportText(exported, options);
      const warnings = [
        ...exported.notCarried.map(
          (item) =>
            `not carried over: ${item.module} rule ${item.rule}${item.dropped === 'actions' ? ' (in part)' : ''}: ${item.reason}`,
        ),
        ...exported.policies
          .filter((policy) => Buffer.byteLength(policy.text) > AGENTCORE_MAX_POLICY_BYTES)
          .map(
            (policy) =>
              `${policy.id} is ${Buffer.byteLength(policy.text)} bytes: AgentCore Policy takes at most ${AGENTCORE_MAX_POLICY_BYTES} per policy`,
          ),
        ...(values['gateway-arn'] === undefined
          ? [`the policies name ${PLACEHOLDER_GATEWAY_ARN}: replace it, or pass --gateway-arn`]
          : []),
        ...(values['without-roles']
          ? []
          : [
              "the roles are carried as forbids on the groups claim; a token's scopes narrowing them (<resource server>/<permission>) are not",
            ]),
      ];
      const stderr = warnings.map((warning) => `warning: ${warning}`).join('\n');
      if (values.out !== undefined) {
        writeFileSync(values.out, output);
        return {
          stdout: '',
          stderr: `${stderr}\nwrote ${exported.policies.length} policies to ${values.out}\n`,
          exitCode: 0,
        };
      }
      return { stdout: output, stderr: stderr === '' ? '' : `${stderr}\n`, exitCode: 0 };
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

async function main(): Promise<void> {
  const result = runPolicy(process.argv.slice(2), {
    modules: MODULES,
    policy: POLICY,
    claims: configuredClaims(),
  });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) runCli(main, USAGE);
