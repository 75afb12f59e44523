import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** The AWS managed rule groups the edge applies, in evaluation order after the rate rule. */
export const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesSQLiRuleSet',
] as const;

export interface EdgeWafProps {
  /** Requests one client address may make in 5 minutes before it is answered 429. */
  readonly rateLimit: number;
}

/**
 * The WAF in front of CloudFront (scope CLOUDFRONT, so it must be created in us-east-1): a
 * per-address rate rule first, then AWS's managed rule groups. The Common rule set's 8 KB body
 * limit only counts: venue layouts uploaded by operators are larger, and the service bounds
 * bodies itself (64 KiB).
 */
export class EdgeWaf extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: EdgeWafProps) {
    super(scope, id);
    const visibility = (name: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      metricName: name,
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
    });
    const rules: wafv2.CfnWebACL.RuleProperty[] = [
      {
        name: 'RatePerAddress',
        priority: 0,
        statement: {
          rateBasedStatement: { limit: props.rateLimit, aggregateKeyType: 'IP', evaluationWindowSec: 300 },
        },
        action: {
          block: { customResponse: { responseCode: 429, responseHeaders: [{ name: 'Retry-After', value: '60' }] } },
        },
        visibilityConfig: visibility('RatePerAddress'),
      },
      ...MANAGED_RULE_GROUPS.map((name, i): wafv2.CfnWebACL.RuleProperty => ({
        name,
        priority: i + 1,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: {
            vendorName: 'AWS',
            name,
            ...(name === 'AWSManagedRulesCommonRuleSet'
              ? { ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }] }
              : {}),
          },
        },
        visibilityConfig: visibility(name),
      })),
    ];
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: 'ticketing-edge',
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('ticketing-edge'),
      rules,
    });
    // Blocked and counted requests only (what a rule matched), 30 days; WAF requires the
    // aws-waf-logs- prefix.
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: 'aws-waf-logs-ticketing-edge',
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The log group's ARN without the trailing ":*" of its GetAtt, as WAF wants it.
    const destination = Stack.of(this).formatArn({
      service: 'logs', resource: 'log-group', resourceName: 'aws-waf-logs-ticketing-edge',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [destination],
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [{
          Behavior: 'KEEP',
          Requirement: 'MEETS_ANY',
          Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'COUNT' } }],
        }],
      },
    });
    logging.node.addDependency(logGroup);
  }
}
