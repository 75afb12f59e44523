import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { AlbIngress, PORTS } from './config';

export interface LoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly originDomainName: string;
  readonly certificateArn?: string;
  readonly zone?: route53.IHostedZone;
  readonly albIngress: AlbIngress;
}

/**
 * The L7 load balancer: HTTPS with an ACM certificate for the origin name, forwarding to the
 * app pods by IP. The pods are registered by the AWS Load Balancer Controller through a
 * TargetGroupBinding (deploy/k8s), so the cluster never creates load balancers of its own.
 */
export class LoadBalancer extends Construct {
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly certificate: acm.ICertificate;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    this.certificate = props.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)
      : new acm.Certificate(this, 'Certificate', {
          domainName: props.originDomainName,
          // With a hosted zone the records are made for us; otherwise the deployment waits
          // until the CNAME shown by ACM is added to the domain's DNS.
          validation: acm.CertificateValidation.fromDns(props.zone),
        });

    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: true,
      securityGroup: props.securityGroup,
      http2Enabled: true,
      dropInvalidHeaderFields: true,
      idleTimeout: Duration.seconds(60),
      deletionProtection: true,
    });

    // Access logs: one line per request (client, target, status, timings), kept 90 days.
    const logs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.alb.logAccessLogs(logs, 'alb');

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'App', {
      vpc: props.vpc,
      targetType: elbv2.TargetType.IP,
      protocol: elbv2.ApplicationProtocol.HTTP,
      port: PORTS.app,
      // The service answers /readyz 503 while draining (TICKETING_DRAIN_DELAY_MS) and while its
      // Redis or PostgreSQL is unreachable; two failures take a pod out, two passes bring it back.
      healthCheck: {
        path: '/readyz',
        interval: Duration.seconds(5),
        timeout: Duration.seconds(3),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        healthyHttpCodes: '200',
      },
      deregistrationDelay: Duration.seconds(15),
      loadBalancingAlgorithmType: elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS,
    });

    // open: false everywhere: the security group construct owns every ingress rule.
    this.alb.addListener('Https', {
      port: PORTS.https,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [this.certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
      defaultTargetGroups: [this.targetGroup],
    });
    if (props.albIngress === 'internet') {
      this.alb.addListener('Http', {
        port: PORTS.http,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
    }

    if (props.zone) {
      new route53.ARecord(this, 'OriginAlias', {
        zone: props.zone,
        recordName: props.originDomainName,
        target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(this.alb)),
      });
    }
  }
}
