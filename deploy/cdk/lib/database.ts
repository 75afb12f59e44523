import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { NAMES, PORTS } from './config';
import { URL_UNSAFE } from './secrets';

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly instanceType: string;
  readonly backupRetentionDays: number;
  readonly performanceInsights: boolean;
}

/**
 * PostgreSQL 15, the system of record: a Multi-AZ primary (synchronous standby in the other AZ,
 * automatic failover behind one DNS name) for TICKETING_PG_URL, and a read replica for the
 * catalogue reads of TICKETING_PG_READ_URL (the service checks its lag itself).
 */
export class Database extends Construct {
  readonly primary: rds.DatabaseInstance;
  readonly replica: rds.DatabaseInstanceReadReplica;
  readonly secret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 });
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'ticketing: TLS only, slow statements logged',
      parameters: {
        'rds.force_ssl': '1',
        log_min_duration_statement: '500',
      },
    });
    const instanceType = new ec2.InstanceType(props.instanceType);
    const common = {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      port: PORTS.postgres,
      instanceType,
      parameterGroup,
      storageEncrypted: true,
      deletionProtection: true,
      enablePerformanceInsights: props.performanceInsights,
      monitoringInterval: Duration.seconds(60),
      cloudwatchLogsExports: ['postgresql'],
      autoMinorVersionUpgrade: true,
      publiclyAccessible: false,
    };
    this.primary = new rds.DatabaseInstance(this, 'Primary', {
      ...common,
      engine,
      databaseName: 'ticketing',
      credentials: rds.Credentials.fromGeneratedSecret('ticketing', {
        secretName: `${NAMES.secretPrefix}db`,
        excludeCharacters: URL_UNSAFE,
      }),
      multiAz: true,
      allocatedStorage: 100,
      maxAllocatedStorage: 1000,
      storageType: rds.StorageType.GP3,
      backupRetention: Duration.days(props.backupRetentionDays),
      preferredBackupWindow: '18:00-19:00',
      preferredMaintenanceWindow: 'mon:19:30-mon:20:30',
      copyTagsToSnapshot: true,
      // Deleting the stack leaves a final snapshot; deletion protection must be lifted first.
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    this.secret = this.primary.secret!;
    // Kept with the final snapshot: restoring it needs these credentials.
    (this.primary.node.findChild('Secret') as secretsmanager.Secret).applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.replica = new rds.DatabaseInstanceReadReplica(this, 'Replica', {
      ...common,
      sourceDatabaseInstance: this.primary,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
