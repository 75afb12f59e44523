import { Fn } from 'aws-cdk-lib';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { NAMES } from './config';

export interface MessagingProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** {"username", "password"} of the service's RabbitMQ user. */
  readonly credentials: secretsmanager.ISecret;
  readonly instanceType: string;
}

/**
 * Amazon MQ for RabbitMQ, pattern A's bus (outbox relay -> quorum queue ticketing.worker): a
 * three-node cluster spread across Availability Zones behind one endpoint, private, encrypted
 * at rest, AMQPS (5671) only.
 */
export class Messaging extends Construct {
  readonly broker: amazonmq.CfnBroker;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    this.broker = new amazonmq.CfnBroker(this, 'Broker', {
      brokerName: NAMES.broker,
      engineType: 'RABBITMQ',
      engineVersion: '3.13',
      deploymentMode: 'CLUSTER_MULTI_AZ',
      hostInstanceType: props.instanceType,
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
      securityGroups: [props.securityGroup.securityGroupId],
      // RabbitMQ brokers are always encrypted at rest with an AWS owned key: said explicitly.
      encryptionOptions: { useAwsOwnedKey: true },
      logs: { general: true },
      maintenanceWindowStartTime: { dayOfWeek: 'WEDNESDAY', timeOfDay: '19:00', timeZone: 'UTC' },
      users: [
        {
          username: props.credentials.secretValueFromJson('username').unsafeUnwrap(),
          password: props.credentials.secretValueFromJson('password').unsafeUnwrap(),
        },
      ],
    });
  }

  /** The AMQPS endpoint of the cluster (amqps://b-....mq.REGION.amazonaws.com:5671). */
  get amqpsEndpoint(): string {
    return Fn.select(0, this.broker.attrAmqpEndpoints);
  }
}
