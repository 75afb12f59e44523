import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { Backups } from './backups';
import { Cache } from './cache';
import { Cdn } from './cdn';
import { ClusterSecrets } from './cluster-secrets';
import { CloudFrontPrefixList } from './cloudfront-prefix-list';
import { Compute } from './compute';
import { NAMES, Settings } from './config';
import { Database } from './database';
import { LoadBalancer } from './load-balancer';
import { Messaging } from './messaging';
import { MetricsAgent } from './metrics-agent';
import { Network } from './network';
import { Observability } from './observability';
import { Registry } from './registry';
import { AppSecrets } from './secrets';
import { SecurityGroups } from './security-groups';

export interface TicketingStackProps extends StackProps {
  readonly settings: Settings;
  /** From the edge stack (us-east-1): the WebACL's ARN and the viewer certificate's ARN. */
  readonly webAclArn: string;
  readonly edgeCertificateArn: string;
  readonly cloudwatchAgentImage: string;
}

/** Everything in the application's region: the design's VPC and what runs in it, plus CloudFront. */
export class TicketingStack extends Stack {
  readonly network: Network;
  readonly securityGroups: SecurityGroups;
  readonly secrets: AppSecrets;
  readonly clusterSecrets: ClusterSecrets;
  readonly database: Database;
  readonly cache: Cache;
  readonly messaging: Messaging;
  readonly loadBalancer: LoadBalancer;
  readonly compute: Compute;
  readonly cdn: Cdn;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: TicketingStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const zone = s.hostedZoneId && s.hostedZoneName
      ? route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
          hostedZoneId: s.hostedZoneId, zoneName: s.hostedZoneName,
        })
      : undefined;

    this.network = new Network(this, 'Network');
    const { vpc } = this.network;
    const prefixList = s.albIngress === 'cloudfront' ? new CloudFrontPrefixList(this, 'CloudFrontPrefixList') : undefined;
    this.securityGroups = new SecurityGroups(this, 'SecurityGroups', {
      vpc, albIngress: s.albIngress, cloudFrontPrefixListId: prefixList?.prefixListId ?? '',
    });
    const sg = this.securityGroups;
    this.secrets = new AppSecrets(this, 'Secrets');

    this.database = new Database(this, 'Database', {
      vpc, subnets: this.network.dbSubnets, securityGroup: sg.database, instanceType: s.dbInstanceType,
      backupRetentionDays: s.backupRetentionDays, performanceInsights: s.performanceInsights,
    });
    this.cache = new Cache(this, 'Cache', {
      vpc, subnets: this.network.dbSubnets, securityGroup: sg.redis, authToken: this.secrets.redisAuth,
      nodeType: s.cacheNodeType,
    });
    this.messaging = new Messaging(this, 'Messaging', {
      vpc, subnets: this.network.dbSubnets, securityGroup: sg.broker, credentials: this.secrets.broker,
      instanceType: s.mqInstanceType,
    });

    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', {
      vpc, subnets: this.network.publicSubnets, securityGroup: sg.alb, originDomainName: s.originDomainName,
      certificateArn: s.albCertificateArn, zone, albIngress: s.albIngress,
    });
    this.clusterSecrets = new ClusterSecrets(this, 'ClusterSecrets', {
      secrets: this.secrets, database: this.database, cache: this.cache, messaging: this.messaging,
    });
    this.compute = new Compute(this, 'Compute', {
      vpc, appSubnets: this.network.appSubnets, appSecurityGroup: sg.app, appSecrets: this.clusterSecrets.all,
      appNamespace: NAMES.k8sNamespace,
      targetGroup: this.loadBalancer.targetGroup, instanceType: s.nodeInstanceType,
      minNodes: s.nodeMin, maxNodes: s.nodeMax, adminRoleArn: s.clusterAdminRoleArn,
    });
    const registry = new Registry(this, 'Registry', [this.compute.nodegroup.role]);
    new MetricsAgent(this, 'MetricsAgent', { cluster: this.compute.cluster, image: props.cloudwatchAgentImage });

    this.cdn = new Cdn(this, 'Cdn', {
      domainName: s.domainName, originDomainName: s.originDomainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'ViewerCertificate', props.edgeCertificateArn),
      webAclArn: props.webAclArn, zone,
    });
    this.observability = new Observability(this, 'Observability', {
      alb: this.loadBalancer.alb, database: this.database.primary, replica: this.database.replica,
      redisNodes: [this.cache.memberId(1), this.cache.memberId(2)], brokerName: NAMES.broker,
      alarmEmail: s.alarmEmail,
    });
    new Backups(this, 'Backups', { database: this.database.primary });

    const out = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    out('CloudFrontDomain', this.cdn.distribution.distributionDomainName,
      `CloudFront name: point ${s.domainName} here (CNAME/alias)`);
    out('AlbDnsName', this.loadBalancer.alb.loadBalancerDnsName,
      `ALB name: point ${s.originDomainName} here (CNAME/alias)`);
    out('TargetGroupArn', this.loadBalancer.targetGroup.targetGroupArn,
      'Target group for the TargetGroupBinding of the public pods');
    out('ClusterName', this.compute.cluster.clusterName, 'EKS cluster');
    out('ImageRepositoryUri', registry.repository.repositoryUri, 'ECR repository of the service image');
    out('ExternalSecretsRoleArn', this.compute.externalSecretsRole.roleArn, 'IRSA role of External Secrets');
    out('KedaRoleArn', this.compute.kedaRole.roleArn, 'IRSA role of the KEDA operator');
    out('DbEndpoint', this.database.primary.dbInstanceEndpointAddress, 'PostgreSQL primary (TICKETING_PG_URL)');
    out('DbReplicaEndpoint', this.database.replica.dbInstanceEndpointAddress,
      'PostgreSQL read replica (TICKETING_PG_READ_URL)');
    out('RedisEndpoint', this.cache.primaryEndpoint, 'Redis primary endpoint (TLS, port 6379)');
    out('BrokerAmqpsEndpoint', this.messaging.amqpsEndpoint, 'Amazon MQ AMQPS endpoint');
    out('AlarmTopicArn', this.observability.topic.topicArn, 'SNS topic of every alarm');
    const secretOutputs: Record<string, { arn: string; what: string }> = {
      TokenSigningKeySecretArn: { arn: this.secrets.tokenSigningKey.secretArn, what: 'TICKETING_SECRET' },
      AdminTokenSecretArn: { arn: this.secrets.adminToken.secretArn, what: 'TICKETING_ADMIN_TOKEN' },
      TicketSigningSeedSecretArn: { arn: this.secrets.ticketSigningSeed.secretArn, what: 'TICKETING_TICKET_SIGNING_SEED' },
      RedisAuthSecretArn: { arn: this.secrets.redisAuth.secretArn, what: 'Redis AUTH token' },
      BrokerSecretArn: { arn: this.secrets.broker.secretArn, what: 'RabbitMQ user (username, password)' },
      DbSecretArn: { arn: this.database.secret.secretArn, what: 'PostgreSQL credentials (username, password, host, port)' },
      ClusterAppSecretArn: { arn: this.clusterSecrets.app.secretArn, what: 'ticketing/app (read by External Secrets)' },
      ClusterPostgresSecretArn: { arn: this.clusterSecrets.postgres.secretArn, what: 'ticketing/postgres (read by External Secrets)' },
      ClusterRedisSecretArn: { arn: this.clusterSecrets.redis.secretArn, what: 'ticketing/redis (read by External Secrets)' },
      ClusterRabbitmqSecretArn: { arn: this.clusterSecrets.rabbitmq.secretArn, what: 'ticketing/rabbitmq (read by External Secrets)' },
      ClusterSmtpSecretArn: { arn: this.clusterSecrets.smtp.secretArn, what: 'ticketing/smtp: set the relay credentials' },
    };
    for (const [name, { arn, what }] of Object.entries(secretOutputs)) out(name, arn, `Secret ARN: ${what}`);
  }
}
