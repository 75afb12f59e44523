import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { only, resources, synth } from './fixture';

const resolvesSecret = (v: any) => /\{\{resolve:secretsmanager:/.test(JSON.stringify(v));

test('RDS: PostgreSQL 15, Multi-AZ, encrypted, backups kept >= 7 days, deletion protection, a read replica', () => {
  const { main } = synth();
  const dbs = Object.entries(main.findResources('AWS::RDS::DBInstance')) as [string, any][];
  assert.equal(dbs.length, 2);
  const primary = dbs.find(([, r]) => !r.Properties.SourceDBInstanceIdentifier)!;
  const replica = dbs.find(([, r]) => r.Properties.SourceDBInstanceIdentifier)!;
  const p = primary[1].Properties;
  assert.equal(p.Engine, 'postgres');
  assert.match(p.EngineVersion, /^15(\.|$)/);
  assert.equal(p.MultiAZ, true);
  assert.equal(p.StorageEncrypted, true);
  assert.ok(p.BackupRetentionPeriod >= 7, `backup retention ${p.BackupRetentionPeriod}`);
  assert.equal(p.DeletionProtection, true);
  assert.equal(p.PubliclyAccessible, false);
  assert.equal(primary[1].DeletionPolicy, 'Snapshot', 'a final snapshot when the stack goes');
  assert.ok(resolvesSecret(p.MasterUserPassword), 'the password comes from the generated secret');
  const r = replica[1].Properties;
  assert.ok(JSON.stringify(r.SourceDBInstanceIdentifier).includes(`{"Ref":"${primary[0]}"}`),
    'the replica follows the primary');
  assert.ok(!r.MultiAZ, 'one replica instance (the primary has the standby)');
  assert.equal(r.DeletionProtection, true);
  // The secret behind the credentials is generated, not given.
  const secretId = JSON.stringify(p.MasterUserPassword).match(/"Ref":"([A-Za-z0-9]+)"/)![1];
  const secret = main.toJSON().Resources[secretId].Properties;
  assert.ok(secret.GenerateSecretString && !secret.SecretString);
});

test('RDS: backup retention comes from context, never below 7 days', () => {
  assert.throws(() => synth({ backupRetentionDays: '3' }), /at least 7/);
  const s = synth({ backupRetentionDays: '14' });
  const dbs = resources(s.main, 'AWS::RDS::DBInstance').filter(([, p]) => !p.SourceDBInstanceIdentifier);
  assert.equal(dbs[0][1].BackupRetentionPeriod, 14);
});

test('ElastiCache: primary + replica, Multi-AZ, automatic failover, encrypted at rest and in transit, AUTH from Secrets Manager', () => {
  const { main } = synth();
  const [, g] = only(main, 'AWS::ElastiCache::ReplicationGroup');
  assert.equal(g.NumCacheClusters, 2);
  assert.equal(g.MultiAZEnabled, true);
  assert.equal(g.AutomaticFailoverEnabled, true);
  assert.equal(g.AtRestEncryptionEnabled, true);
  assert.equal(g.TransitEncryptionEnabled, true);
  assert.equal(g.TransitEncryptionMode, 'required');
  assert.ok(resolvesSecret(g.AuthToken), 'AUTH token is a dynamic reference');
  assert.ok(g.SnapshotRetentionLimit >= 1, 'snapshots are kept');
  assert.equal(g.Port, 6379);
});

test('Amazon MQ: RabbitMQ cluster across AZs, private, encrypted, credentials from Secrets Manager', () => {
  const { main } = synth();
  const [, b] = only(main, 'AWS::AmazonMQ::Broker');
  assert.equal(b.EngineType, 'RABBITMQ');
  assert.equal(b.DeploymentMode, 'CLUSTER_MULTI_AZ');
  assert.equal(b.PubliclyAccessible, false);
  assert.deepEqual(b.EncryptionOptions, { UseAwsOwnedKey: true });
  assert.equal(b.SubnetIds.length, 2);
  assert.equal(b.Users.length, 1);
  assert.ok(resolvesSecret(b.Users[0].Password) && resolvesSecret(b.Users[0].Username));
});

test('backups: an AWS Backup plan covers the PostgreSQL primary, its vault is retained', () => {
  const { main } = synth();
  const [, sel] = only(main, 'AWS::Backup::BackupSelection');
  const dbId = resources(main, 'AWS::RDS::DBInstance').find(([, p]) => !p.SourceDBInstanceIdentifier)![0];
  assert.ok(JSON.stringify(sel.BackupSelection.Resources).includes(`"Ref":"${dbId}"`));
  const vaults = Object.values(main.findResources('AWS::Backup::BackupVault')) as any[];
  assert.equal(vaults[0].DeletionPolicy, 'Retain');
  const [, plan] = only(main, 'AWS::Backup::BackupPlan');
  assert.ok(plan.BackupPlan.BackupPlanRule.every((r: any) => r.Lifecycle.DeleteAfterDays >= 35));
});
