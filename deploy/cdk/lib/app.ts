import { App, Tags } from 'aws-cdk-lib';
import { settingsFrom } from './config';
import { EdgeStack } from './edge-stack';
import { TicketingStack } from './ticketing-stack';

export const DEFAULT_CLOUDWATCH_AGENT_IMAGE = 'public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest';

export interface BuiltApp {
  readonly app: App;
  readonly edge: EdgeStack;
  readonly main: TicketingStack;
}

/**
 * Both stacks from the app's context; used by bin/app.ts and by the tests. The edge stack
 * (us-east-1) is deployed first; the application stack reads its outputs across regions.
 */
export function buildApp(app: App): BuiltApp {
  const s = settingsFrom(app);
  const zone = s.hostedZoneId && s.hostedZoneName
    ? { hostedZoneId: s.hostedZoneId, zoneName: s.hostedZoneName }
    : undefined;
  const edge = new EdgeStack(app, 'TicketingEdge', {
    env: { account: s.account, region: 'us-east-1' },
    description: 'ticketing: CloudFront WAF and viewer certificate (us-east-1)',
    crossRegionReferences: true,
    domainName: s.domainName,
    certificateArn: s.edgeCertificateArn,
    zone,
    wafRateLimit: s.wafRateLimit,
  });
  const main = new TicketingStack(app, 'Ticketing', {
    env: { account: s.account, region: s.region },
    description: 'ticketing: VPC, EKS, ALB, CloudFront, RDS, ElastiCache, Amazon MQ, secrets, alarms',
    crossRegionReferences: true,
    settings: s,
    webAclArn: edge.webAclArn,
    edgeCertificateArn: edge.certificate.certificateArn,
    cloudwatchAgentImage: String(app.node.tryGetContext('cloudwatchAgentImage') ?? DEFAULT_CLOUDWATCH_AGENT_IMAGE),
  });
  main.addDependency(edge);
  Tags.of(app).add('project', 'ticketing');
  return { app, edge, main };
}
