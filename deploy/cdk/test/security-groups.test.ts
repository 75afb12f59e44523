import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Template } from 'aws-cdk-lib/assertions';
import { resources, refOf, synth, Synthesised } from './fixture';

type Rule = string; // "TARGET <- SOURCE tcp FROM-TO"

/** Every ingress rule of every security group in the template, inline or separate. */
function ingressRules(t: Template, name: (logicalId: string) => string): Rule[] {
  const source = (r: any): string => {
    if (r.CidrIp) return r.CidrIp;
    if (r.CidrIpv6) return r.CidrIpv6;
    if (r.SourcePrefixListId) return `prefix-list:${name(refOf(r.SourcePrefixListId))}`;
    if (r.SourceSecurityGroupId) return name(refOf(r.SourceSecurityGroupId));
    return JSON.stringify(r);
  };
  const fmt = (group: string, r: any) => `${group} <- ${source(r)} ${r.IpProtocol} ${r.FromPort}-${r.ToPort}`;
  const rules: Rule[] = [];
  for (const [id, p] of resources(t, 'AWS::EC2::SecurityGroup')) {
    for (const r of p.SecurityGroupIngress ?? []) rules.push(fmt(name(id), r));
  }
  for (const [, p] of resources(t, 'AWS::EC2::SecurityGroupIngress')) rules.push(fmt(name(refOf(p.GroupId)), p));
  return rules.sort();
}

function egressRules(t: Template, name: (logicalId: string) => string): Rule[] {
  const dest = (r: any): string =>
    r.CidrIp ?? r.CidrIpv6 ?? (r.DestinationSecurityGroupId ? name(refOf(r.DestinationSecurityGroupId)) : JSON.stringify(r));
  const fmt = (group: string, r: any) => `${group} -> ${dest(r)} ${r.IpProtocol} ${r.FromPort ?? '*'}-${r.ToPort ?? '*'}`;
  const rules: Rule[] = [];
  for (const [id, p] of resources(t, 'AWS::EC2::SecurityGroup')) {
    for (const r of p.SecurityGroupEgress ?? []) rules.push(fmt(name(id), r));
  }
  for (const [, p] of resources(t, 'AWS::EC2::SecurityGroupEgress')) rules.push(fmt(name(refOf(p.GroupId)), p));
  return rules.sort();
}

/** Logical IDs -> the design's names for the groups (and the prefix-list lookup). */
function namer(s: Synthesised): (id: string) => string {
  const sg = s.built.main.securityGroups;
  const names = new Map<string, string>([
    [s.id(sg.alb), 'alb'], [s.id(sg.app), 'app'], [s.id(sg.redis), 'redis'],
    [s.id(sg.database), 'rds'], [s.id(sg.broker), 'mq'],
  ]);
  return (id) => names.get(id) ?? (id.startsWith('CloudFrontPrefixList') ? 'cloudfront' : id.startsWith('ComputeClusterControlPlane') ? 'eks-control-plane' : id);
}

test('security groups: exactly the design\'s ingress rules (ALB only from CloudFront)', () => {
  const s = synth();
  assert.deepEqual(ingressRules(s.main, namer(s)), [
    'alb <- prefix-list:cloudfront tcp 443-443',
    'app <- alb tcp 8080-8080',
    'mq <- app tcp 5671-5671',
    'rds <- app tcp 5432-5432',
    'redis <- app tcp 6379-6379',
  ].sort());
});

test('security groups: with albIngress=internet the ALB takes 443 and 80 from anywhere, nothing else changes', () => {
  const s = synth({ albIngress: 'internet' });
  assert.deepEqual(ingressRules(s.main, namer(s)), [
    'alb <- 0.0.0.0/0 tcp 443-443',
    'alb <- 0.0.0.0/0 tcp 80-80',
    'app <- alb tcp 8080-8080',
    'mq <- app tcp 5671-5671',
    'rds <- app tcp 5432-5432',
    'redis <- app tcp 6379-6379',
  ].sort());
  // The port-80 listener only redirects to HTTPS.
  const listeners = resources(s.main, 'AWS::ElasticLoadBalancingV2::Listener');
  const http = listeners.find(([, p]) => p.Port === 80);
  assert.ok(http);
  assert.equal(http[1].DefaultActions[0].Type, 'redirect');
  assert.equal(http[1].DefaultActions[0].RedirectConfig.Protocol, 'HTTPS');
});

test('security groups: the ALB only sends to the app port; the data tier sends nothing', () => {
  const s = synth();
  assert.deepEqual(egressRules(s.main, namer(s)), [
    'alb -> app tcp 8080-8080',
    'app -> 0.0.0.0/0 -1 *-*',
    'eks-control-plane -> 0.0.0.0/0 -1 *-*',
    // CDK's placeholder for "no egress at all" (matches no traffic).
    'mq -> 255.255.255.255/32 icmp 252-86',
    'rds -> 255.255.255.255/32 icmp 252-86',
    'redis -> 255.255.255.255/32 icmp 252-86',
  ].sort());
});

test('security groups: none in the nested stacks (the cluster handlers run outside the VPC)', () => {
  const s = synth();
  for (const [file, text] of s.files) {
    if (!file.includes('nested')) continue;
    assert.ok(!text.includes('AWS::EC2::SecurityGroup'), file);
  }
});

test('security groups: the data tier lives in the db subnets, the nodes carry the app group', () => {
  const s = synth();
  const { main } = s;
  const dbSubnets = new Set(s.built.main.network.vpc.selectSubnets({ subnetGroupName: 'db' }).subnets
    .map((x) => s.id(x)));
  const appSubnets = new Set(s.built.main.network.vpc.selectSubnets({ subnetGroupName: 'app' }).subnets
    .map((x) => s.id(x)));
  assert.equal(dbSubnets.size, 2);
  const refs = (xs: any[]) => new Set(xs.map(refOf));
  for (const [, p] of resources(main, 'AWS::RDS::DBSubnetGroup')) assert.deepEqual(refs(p.SubnetIds), dbSubnets);
  for (const [, p] of resources(main, 'AWS::ElastiCache::SubnetGroup')) assert.deepEqual(refs(p.SubnetIds), dbSubnets);
  for (const [, p] of resources(main, 'AWS::AmazonMQ::Broker')) assert.deepEqual(refs(p.SubnetIds), dbSubnets);
  const [, ng] = resources(main, 'AWS::EKS::Nodegroup')[0];
  assert.deepEqual(refs(ng.Subnets), appSubnets);
  const [, lt] = resources(main, 'AWS::EC2::LaunchTemplate')[0];
  const name = namer(s);
  assert.ok(lt.LaunchTemplateData.SecurityGroupIds.map((x: any) => name(refOf(x))).includes('app'));
});
