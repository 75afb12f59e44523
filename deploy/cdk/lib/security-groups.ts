import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { AlbIngress, PORTS } from './config';

export interface SecurityGroupsProps {
  readonly vpc: ec2.IVpc;
  readonly albIngress: AlbIngress;
  /** CloudFront's origin-facing managed prefix list, used when albIngress is 'cloudfront'. */
  readonly cloudFrontPrefixListId: string;
}

/**
 * The design's security groups and every rule between them, in one place:
 *
 *   ALB   <- CloudFront (origin-facing prefix list) on 443   [or the internet on 443 and 80]
 *   app   <- ALB on the app port only
 *   Redis <- app on 6379, RDS <- app on 5432, MQ <- app on 5671; nothing else.
 *
 * The ALB may only send to the app port; the data tier sends nothing. The app tier keeps its
 * outbound traffic (through the NAT gateways: image pulls, AWS APIs, payment provider, SMTP).
 */
export class SecurityGroups extends Construct {
  readonly alb: ec2.SecurityGroup;
  readonly app: ec2.SecurityGroup;
  readonly redis: ec2.SecurityGroup;
  readonly database: ec2.SecurityGroup;
  readonly broker: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: SecurityGroupsProps) {
    super(scope, id);
    const { vpc } = props;
    const sg = (name: string, description: string, allowAllOutbound: boolean) =>
      new ec2.SecurityGroup(this, name, { vpc, description, allowAllOutbound });

    this.alb = sg('Alb', 'Load balancer: HTTPS from the edge, to the app port only', false);
    this.app = sg('App', 'App tier (EKS nodes): from the load balancer on the app port', true);
    this.redis = sg('Redis', 'ElastiCache Redis: from the app tier on 6379', false);
    this.database = sg('Database', 'RDS PostgreSQL: from the app tier on 5432', false);
    this.broker = sg('Broker', 'Amazon MQ (RabbitMQ): from the app tier on 5671', false);

    if (props.albIngress === 'cloudfront') {
      // Only CloudFront may reach the load balancer, so nothing bypasses the WAF. One
      // reference to the prefix list counts as its ~55 entries against the rules quota,
      // hence only 443 (CloudFront reaches the origin over HTTPS only).
      this.alb.addIngressRule(
        ec2.Peer.prefixList(props.cloudFrontPrefixListId),
        ec2.Port.tcp(PORTS.https),
        'HTTPS from CloudFront',
      );
    } else {
      this.alb.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(PORTS.https), 'HTTPS');
      this.alb.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(PORTS.http), 'HTTP, redirected');
    }
    // allowTo writes both sides: the ALB's egress and the app's ingress.
    this.alb.connections.allowTo(this.app, ec2.Port.tcp(PORTS.app), 'ALB to the app port');
    this.redis.connections.allowFrom(this.app, ec2.Port.tcp(PORTS.redis), 'Redis (TLS) from the app');
    this.database.connections.allowFrom(this.app, ec2.Port.tcp(PORTS.postgres), 'PostgreSQL from the app');
    this.broker.connections.allowFrom(this.app, ec2.Port.tcp(PORTS.amqps), 'AMQPS from the app');
  }
}
