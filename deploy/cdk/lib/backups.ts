import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';

export interface BackupsProps {
  readonly database: rds.DatabaseInstance;
}

/**
 * Backups beyond RDS's own automated ones (point-in-time restore within the retention): a
 * daily AWS Backup snapshot of the PostgreSQL primary kept 35 days and a monthly one kept a
 * year, in a vault that outlives the stack. Redis keeps its own daily snapshots (the cache
 * construct); it holds leases and fast state, rebuilt from PostgreSQL.
 */
export class Backups extends Construct {
  readonly plan: backup.BackupPlan;

  constructor(scope: Construct, id: string, props: BackupsProps) {
    super(scope, id);
    const vault = new backup.BackupVault(this, 'Vault', { removalPolicy: RemovalPolicy.RETAIN });
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupVault: vault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: 'daily',
          scheduleExpression: events.Schedule.cron({ hour: '17', minute: '30' }),
          deleteAfter: Duration.days(35),
        }),
        new backup.BackupPlanRule({
          ruleName: 'monthly',
          scheduleExpression: events.Schedule.cron({ day: '1', hour: '18', minute: '30' }),
          moveToColdStorageAfter: Duration.days(30),
          deleteAfter: Duration.days(365),
        }),
      ],
    });
    this.plan.addSelection('Database', {
      resources: [backup.BackupResource.fromRdsDatabaseInstance(props.database)],
    });
  }
}
