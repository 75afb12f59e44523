import { App } from 'aws-cdk-lib';

/** Ports the design fixes between tiers. */
export const PORTS = {
  https: 443,
  http: 80,
  /** TICKETING_HTTP_PORT of the pods the load balancer reaches (gateways in pattern A). */
  app: 8080,
  /** TICKETING_OPS_PORT: /metrics, /healthz, /readyz; reached inside the cluster only. */
  ops: 9090,
  redis: 6379,
  postgres: 5432,
  /** AMQP over TLS: the only AMQP port Amazon MQ for RabbitMQ listens on. */
  amqps: 5671,
} as const;

/** Names other tools refer to (External Secrets, dashboards, alarms). */
export const NAMES = {
  cluster: 'ticketing',
  k8sNamespace: 'ticketing',
  redisGroup: 'ticketing-redis',
  broker: 'ticketing-mq',
  metricNamespace: 'Ticketing',
  secretPrefix: 'ticketing/',
} as const;

/** Who may reach the load balancer directly. */
export type AlbIngress = 'cloudfront' | 'internet';

export interface Settings {
  readonly account?: string;
  /** Region of the application (everything but the edge stack). */
  readonly region: string;
  /** Public name buyers use, served by CloudFront (e.g. tickets.example.com). */
  readonly domainName: string;
  /** Name CloudFront uses to reach the load balancer over HTTPS (e.g. origin.tickets.example.com). */
  readonly originDomainName: string;
  /** Optional Route 53 hosted zone for DNS validation and alias records. */
  readonly hostedZoneId?: string;
  readonly hostedZoneName?: string;
  /** Optional existing ACM certificates (regional for the ALB; us-east-1 for CloudFront). */
  readonly albCertificateArn?: string;
  readonly edgeCertificateArn?: string;
  readonly albIngress: AlbIngress;
  /** WAF rate-based rule: requests per client address per 5 minutes. */
  readonly wafRateLimit: number;
  readonly backupRetentionDays: number;
  readonly performanceInsights: boolean;
  /** IAM role (ARN) given cluster-admin access to the EKS cluster, e.g. the deploy role. */
  readonly clusterAdminRoleArn?: string;
  /** E-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  readonly nodeInstanceType: string;
  readonly nodeMin: number;
  readonly nodeMax: number;
  readonly dbInstanceType: string;
  readonly cacheNodeType: string;
  readonly mqInstanceType: string;
}

function str(app: App, key: string): string | undefined {
  const v = app.node.tryGetContext(key);
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function num(app: App, key: string, dflt: number): number {
  const v = str(app, key);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`context ${key}: not a number: ${v}`);
  return n;
}

/** Reads the deployment's settings from CDK context (`-c key=value` or cdk.json). */
export function settingsFrom(app: App): Settings {
  const domainName = str(app, 'domainName') ?? 'tickets.example.com';
  const albIngress = (str(app, 'albIngress') ?? 'cloudfront') as AlbIngress;
  if (albIngress !== 'cloudfront' && albIngress !== 'internet') {
    throw new Error(`context albIngress: cloudfront or internet, not ${albIngress}`);
  }
  const backupRetentionDays = num(app, 'backupRetentionDays', 7);
  if (backupRetentionDays < 7) throw new Error('context backupRetentionDays: at least 7');
  return {
    account: str(app, 'account') ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: str(app, 'region') ?? process.env.CDK_DEFAULT_REGION ?? 'ap-northeast-2',
    domainName,
    originDomainName: str(app, 'originDomainName') ?? `origin.${domainName}`,
    hostedZoneId: str(app, 'hostedZoneId'),
    hostedZoneName: str(app, 'hostedZoneName'),
    albCertificateArn: str(app, 'albCertificateArn'),
    edgeCertificateArn: str(app, 'edgeCertificateArn'),
    albIngress,
    wafRateLimit: num(app, 'wafRateLimit', 6000),
    backupRetentionDays,
    performanceInsights: (str(app, 'performanceInsights') ?? 'true') !== 'false',
    clusterAdminRoleArn: str(app, 'clusterAdminRoleArn'),
    alarmEmail: str(app, 'alarmEmail'),
    nodeInstanceType: str(app, 'nodeInstanceType') ?? 'm6i.xlarge',
    nodeMin: num(app, 'nodeMin', 2),
    nodeMax: num(app, 'nodeMax', 12),
    dbInstanceType: str(app, 'dbInstanceType') ?? 'r6g.large',
    cacheNodeType: str(app, 'cacheNodeType') ?? 'cache.r7g.large',
    mqInstanceType: str(app, 'mqInstanceType') ?? 'mq.m5.large',
  };
}
