import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { only, resources, synth } from './fixture';

test('EKS: cluster in the app subnets, a managed node group across both AZs', () => {
  const s = synth();
  const [, cluster] = only(s.main, 'Custom::AWSCDK-EKS-Cluster');
  const cfg = cluster.Config;
  assert.equal(cfg.name, 'ticketing');
  assert.equal(cfg.resourcesVpcConfig.subnetIds.length, 2);
  const [, ng] = only(s.main, 'AWS::EKS::Nodegroup');
  assert.equal(ng.Subnets.length, 2);
  assert.ok(ng.ScalingConfig.MinSize >= 2, 'at least a node per AZ');
  const [, lt] = only(s.main, 'AWS::EC2::LaunchTemplate');
  assert.equal(lt.LaunchTemplateData.MetadataOptions.HttpTokens, 'required');
  assert.equal(lt.LaunchTemplateData.BlockDeviceMappings[0].Ebs.Encrypted, true);
});

test('EKS: KEDA, External Secrets and the Load Balancer Controller, each with its own IRSA role', () => {
  const s = synth();
  const charts = resources(s.main, 'Custom::AWSCDK-EKS-HelmChart').map(([, p]) => p.Chart).sort();
  assert.deepEqual(charts, ['aws-for-fluent-bit', 'aws-load-balancer-controller', 'external-secrets', 'keda',
    'kube-prometheus-stack']);
  // Prometheus scrapes the ticketing namespace's annotated pods and labels series with their namespace.
  const prom = resources(s.main, 'Custom::AWSCDK-EKS-HelmChart').find(([, p]) => p.Chart === 'kube-prometheus-stack')![1];
  assert.equal(prom.Namespace, 'monitoring');
  const job = JSON.parse(prom.Values).prometheus.prometheusSpec.additionalScrapeConfigs[0];
  assert.deepEqual(job.kubernetes_sd_configs[0].namespaces.names, ['ticketing']);
  assert.ok(job.relabel_configs.some((r: any) => r.target_label === 'namespace'));
  const trust = (role: any) => JSON.stringify(s.main.toJSON().Resources[s.id(role)].Properties.AssumeRolePolicyDocument);
  const c = s.built.main.compute;
  for (const role of [c.externalSecretsRole, c.kedaRole, c.loadBalancerControllerRole]) {
    assert.match(trust(role), /sts:AssumeRoleWithWebIdentity/);
  }
  // The subjects are pinned by CfnJson (the issuer is known at deploy time only).
  const subjects = resources(s.main, 'Custom::AWSCDKCfnJson').map(([, p]) => JSON.stringify(p.Value));
  for (const sa of ['ticketing:external-secrets-reader', 'keda:keda-operator',
    'kube-system:aws-load-balancer-controller', 'amazon-cloudwatch:cwagent-prometheus',
    'logging:fluent-bit']) {
    assert.ok(subjects.some((x) => x.includes(`system:serviceaccount:${sa}`)), sa);
  }
  // The controller may register targets in the ticketing target group only.
  const lbcRole = s.id(c.loadBalancerControllerRole);
  const policy = resources(s.main, 'AWS::IAM::Policy').find(([, p]) => p.Roles.some((r: any) => r.Ref === lbcRole))![1];
  const register = policy.PolicyDocument.Statement.find((st: any) => [st.Action].flat().includes('elasticloadbalancing:RegisterTargets'));
  const tgId = only(s.main, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0];
  assert.deepEqual(register.Resource, { Ref: tgId });
});

test('Logs: Fluent Bit ships the ticketing pods\' log lines to one log group, and may write only there', () => {
  const s = synth();
  const groups = resources(s.main, 'AWS::Logs::LogGroup').filter(([, p]) => p.LogGroupName === '/ticketing/containers');
  assert.equal(groups.length, 1);
  const [groupId, group] = groups[0];
  assert.ok(group.RetentionInDays > 0, 'kept for a bounded time');
  const fb = resources(s.main, 'Custom::AWSCDK-EKS-HelmChart').find(([, p]) => p.Chart === 'aws-for-fluent-bit')![1];
  // Values with deploy-time parts (the role's ARN, the region) are an Fn::Join: those parts stand
  // inside JSON strings, so a placeholder keeps the document parseable.
  const text = typeof fb.Values === 'string' ? fb.Values
    : fb.Values['Fn::Join'][1].map((x: any) => (typeof x === 'string' ? x : 'TOKEN')).join('');
  const values = JSON.parse(text);
  assert.equal(values.cloudWatchLogs.enabled, true);
  assert.equal(values.serviceAccount.annotations['eks.amazonaws.com/role-arn'], 'TOKEN');
  assert.equal(values.cloudWatchLogs.logGroupName, '/ticketing/containers');
  assert.match(values.input.path, /_ticketing_/, 'only the application namespace');
  const role = s.id(s.built.main.compute.fluentBitRole);
  const policy = resources(s.main, 'AWS::IAM::Policy').find(([, p]) => p.Roles.some((r: any) => r.Ref === role))![1];
  const put = policy.PolicyDocument.Statement.find((st: any) => [st.Action].flat().includes('logs:PutLogEvents'));
  const targets = JSON.stringify(put.Resource);
  assert.ok(targets.includes(groupId), targets);
  assert.ok(!targets.includes('"*"'), 'no wildcard resource');
});
