import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { resources, refOf, synth } from './fixture';

test('network: two AZs, three subnet tiers each, a NAT gateway per AZ', () => {
  const { main } = synth();
  const subnets = resources(main, 'AWS::EC2::Subnet');
  assert.equal(subnets.length, 6);
  const azOf = (p: any) => JSON.stringify(p.AvailabilityZone);
  const tier = (p: any) => p.Tags.find((t: any) => t.Key === 'aws-cdk:subnet-name').Value;
  const azs = new Set(subnets.map(([, p]) => azOf(p)));
  assert.equal(azs.size, 2, 'two Availability Zones');
  for (const az of azs) {
    const here = subnets.filter(([, p]) => azOf(p) === az).map(([, p]) => tier(p)).sort();
    assert.deepEqual(here, ['app', 'db', 'public']);
  }

  const nats = resources(main, 'AWS::EC2::NatGateway');
  assert.equal(nats.length, 2, 'one NAT gateway per AZ');
  const subnetById = new Map(subnets);
  const natAzs = new Set(nats.map(([, p]) => azOf(subnetById.get(refOf(p.SubnetId)))));
  assert.equal(natAzs.size, 2, 'the NAT gateways are in different AZs');
  for (const [, p] of nats) assert.equal(tier(subnetById.get(refOf(p.SubnetId))), 'public');

  // Routes: app subnets leave through their own AZ's NAT gateway; db subnets have no route out.
  const assoc = resources(main, 'AWS::EC2::SubnetRouteTableAssociation');
  const tableOfSubnet = new Map(assoc.map(([, p]) => [refOf(p.SubnetId), refOf(p.RouteTableId)]));
  const routes = resources(main, 'AWS::EC2::Route');
  const natById = new Map(nats);
  for (const [id, p] of subnets) {
    const out = routes.filter(([, r]) => refOf(r.RouteTableId) === tableOfSubnet.get(id));
    if (tier(p) === 'db') assert.equal(out.length, 0, 'db subnets are isolated');
    if (tier(p) === 'app') {
      assert.equal(out.length, 1);
      const nat = natById.get(refOf(out[0][1].NatGatewayId));
      assert.ok(nat, 'app subnets route through a NAT gateway');
      assert.equal(azOf(subnetById.get(refOf(nat.SubnetId))), azOf(p), 'the NAT gateway of the same AZ');
    }
  }
});
