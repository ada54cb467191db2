/**
 * What the synthesized template is checked against on every synth: cdk-nag's AwsSolutions
 * pack and AWS Control Tower's proactive controls (cfn-guard rules, run offline by
 * @cdklabs/cdk-validator-cfnguard). Any unacknowledged finding fails `cdk synth`, so CI.
 * Also the pieces of the stack that exist to satisfy a rule, and the acknowledgements shared
 * by several constructs.
 */

import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  type App,
  type IAspect,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The name findings of the cfn-guard plugin are acknowledged under (`<name>::<rule>`). */
export const CFN_GUARD_PLUGIN = 'cdk-validator-cfnguard';

/**
 * The cfn-guard plugin with every finding marked an error. The plugin reports findings without
 * a severity, and once one finding of a plugin is acknowledged, aws-cdk-lib recomputes the
 * plugin's outcome from the remaining findings' severities: unmarked, a new violation next to
 * an acknowledged one would no longer fail the synth.
 */
export class StrictCfnGuardValidator implements IPolicyValidationPlugin {
  private readonly guard = new CfnGuardValidator();
  readonly name = this.guard.name;
  readonly version = this.guard.version;
  readonly ruleIds = this.guard.ruleIds;

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const report = this.guard.validate(context);
    return {
      ...report,
      violations: report.violations.map((violation) => ({
        ...violation,
        severity: violation.severity ?? 'error',
      })),
    };
  }
}

/** Register both validation plugins on the app: every synth runs them. */
export function addValidationPlugins(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new StrictCfnGuardValidator());
}

/**
 * API Gateway's permission to invoke a function is scoped by `SourceArn` to this API's
 * execute-api ARN (stage, method, path), built with Fn::Join from the API id; CT.LAMBDA.PR.2's
 * Guard rule accepts only a literal string or a same-template reference there, which an
 * environment-agnostic template cannot give.
 */
export function acknowledgeApiGatewayPermission(scope: IConstruct): void {
  Validations.of(scope).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
    reason:
      "Not public: API Gateway's invoke permission is scoped by SourceArn to this API's execute-api ARN, which the Guard rule cannot read because it is an Fn::Join of the API id",
  });
}

/**
 * Adds to every KMS key of the scope the statement AWS Control Tower's CT.KMS.PR.3 asks for:
 * no principal may create a grant on the key unless the grant is for an AWS resource (a service
 * acting for the account) or the caller is an AWS service. Grants are how a key's use is
 * delegated outside its policy; nothing in this stack needs one for anything else.
 */
export class KmsGrantsForAwsServicesOnly implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof kms.Key)) return;
    node.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyGrantsExceptForAwsResources',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          BoolIfExists: {
            'kms:GrantIsForAWSResource': 'false',
            'aws:PrincipalIsAWSService': 'false',
          },
        },
      }),
    );
  }
}
