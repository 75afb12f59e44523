import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/** Subnet group names, one per tier of the design. */
export const SUBNETS = { public: 'public', app: 'app', db: 'db' } as const;

/**
 * The VPC of the design: two Availability Zones, each with a public subnet (load balancer,
 * NAT gateway), an app subnet (private, leaves through its own AZ's NAT gateway) and a db subnet
 * (isolated: no route out at all).
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: 2,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: SUBNETS.public, subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        // Pods take their addresses from these subnets (VPC CNI): make them large.
        { name: SUBNETS.app, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
        { name: SUBNETS.db, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        all: { trafficType: ec2.FlowLogTrafficType.REJECT },
      },
    });
    // S3 through a gateway endpoint: image layers from ECR come from S3 without NAT charges.
    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  }

  get publicSubnets(): ec2.SubnetSelection {
    return { subnetGroupName: SUBNETS.public };
  }
  get appSubnets(): ec2.SubnetSelection {
    return { subnetGroupName: SUBNETS.app };
  }
  get dbSubnets(): ec2.SubnetSelection {
    return { subnetGroupName: SUBNETS.db };
  }
}
