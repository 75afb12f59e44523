import { Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { EdgeWaf } from './waf';

export interface EdgeStackProps extends StackProps {
  readonly domainName: string;
  readonly certificateArn?: string;
  /** Route 53 zone of the domain, for DNS validation: { hostedZoneId, zoneName }. */
  readonly zone?: route53.HostedZoneAttributes;
  readonly wafRateLimit: number;
}

/**
 * What CloudFront needs from us-east-1: the CLOUDFRONT-scope WebACL and the viewer certificate
 * (CloudFront only accepts both from that region). The application stack reads their ARNs
 * through CDK's cross-region references (SSM parameters written here, read there at deploy
 * time), so this stack is deployed first.
 */
export class EdgeStack extends Stack {
  readonly webAclArn: string;
  readonly certificate: acm.ICertificate;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    if (this.region !== 'us-east-1') throw new Error('the edge stack must be in us-east-1');
    const waf = new EdgeWaf(this, 'Waf', { rateLimit: props.wafRateLimit });
    this.webAclArn = waf.webAcl.attrArn;
    this.certificate = props.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'ViewerCertificate', props.certificateArn)
      : new acm.Certificate(this, 'ViewerCertificate', {
          domainName: props.domainName,
          validation: acm.CertificateValidation.fromDns(
            props.zone ? route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', props.zone) : undefined),
        });
  }
}
