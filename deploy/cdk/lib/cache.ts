import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { NAMES, PORTS } from './config';

export interface CacheProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly authToken: secretsmanager.ISecret;
  readonly nodeType: string;
}

/**
 * Redis for the waiting room, seat holds, sessions and shared limits: one primary and one
 * replica in the other AZ, automatic failover (the primary endpoint follows it), encrypted at
 * rest and in transit, AUTH token from Secrets Manager, daily snapshots.
 */
export class Cache extends Construct {
  readonly group: elasticache.CfnReplicationGroup;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'ticketing Redis: db subnets',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });
    this.group = new elasticache.CfnReplicationGroup(this, 'Group', {
      replicationGroupId: NAMES.redisGroup,
      replicationGroupDescription: 'ticketing: waiting room, holds, sessions',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: props.nodeType,
      numCacheClusters: 2,
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      // A dynamic reference: CloudFormation resolves it at deploy time, the template holds none.
      authToken: props.authToken.secretValue.unsafeUnwrap(),
      port: PORTS.redis,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [props.securityGroup.securityGroupId],
      snapshotRetentionLimit: 7,
      snapshotWindow: '17:00-18:00',
      preferredMaintenanceWindow: 'tue:19:00-tue:20:00',
      autoMinorVersionUpgrade: true,
    });
  }

  /** CacheClusterId of member n (1-based), as CloudWatch names the nodes. */
  memberId(n: number): string {
    return `${NAMES.redisGroup}-${String(n).padStart(3, '0')}`;
  }

  get primaryEndpoint(): string {
    return this.group.attrPrimaryEndPointAddress;
  }

  get readerEndpoint(): string {
    return this.group.attrReaderEndPointAddress;
  }

  get region(): string {
    return Stack.of(this).region;
  }
}
