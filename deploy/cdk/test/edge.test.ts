import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { only, resources, synth } from './fixture';

// IDs of CloudFront's managed policies.
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const ALL_VIEWER_EXCEPT_HOST = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

test('WAF: a CLOUDFRONT-scope WebACL in us-east-1 with the managed rule groups and a rate rule', () => {
  const { edge, built } = synth();
  assert.equal(built.edge.region, 'us-east-1');
  const [, acl] = only(edge, 'AWS::WAFv2::WebACL');
  assert.equal(acl.Scope, 'CLOUDFRONT');
  assert.deepEqual(acl.DefaultAction, { Allow: {} });
  const groups = acl.Rules.filter((r: any) => r.Statement.ManagedRuleGroupStatement)
    .map((r: any) => `${r.Statement.ManagedRuleGroupStatement.VendorName}/${r.Statement.ManagedRuleGroupStatement.Name}`);
  assert.deepEqual(groups.sort(), [
    'AWS/AWSManagedRulesAmazonIpReputationList',
    'AWS/AWSManagedRulesCommonRuleSet',
    'AWS/AWSManagedRulesKnownBadInputsRuleSet',
    'AWS/AWSManagedRulesSQLiRuleSet',
  ]);
  for (const r of acl.Rules.filter((x: any) => x.Statement.ManagedRuleGroupStatement)) {
    assert.deepEqual(r.OverrideAction, { None: {} }, `${r.Name} blocks (not count-only)`);
  }
  const rate = acl.Rules.filter((r: any) => r.Statement.RateBasedStatement);
  assert.equal(rate.length, 1);
  assert.equal(rate[0].Statement.RateBasedStatement.AggregateKeyType, 'IP');
  assert.equal(rate[0].Statement.RateBasedStatement.Limit, 6000);
  assert.ok(rate[0].Action.Block, 'the rate rule blocks');
  assert.equal(rate[0].Priority, 0, 'the rate rule is evaluated first');
  const [, logging] = only(edge, 'AWS::WAFv2::LoggingConfiguration');
  assert.match(JSON.stringify(logging.LogDestinationConfigs), /aws-waf-logs-/);
  const priorities = acl.Rules.map((r: any) => r.Priority);
  assert.equal(new Set(priorities).size, priorities.length, 'distinct priorities');
});

test('CloudFront: the WebACL and viewer certificate come across regions from the edge stack', () => {
  const { main } = synth();
  const [, d] = only(main, 'AWS::CloudFront::Distribution');
  const cfg = d.DistributionConfig;
  // Cross-region references are read at deploy time from SSM parameters written by the edge stack.
  assert.match(JSON.stringify(cfg.WebACLId), /ExportsReader/);
  assert.match(JSON.stringify(cfg.ViewerCertificate.AcmCertificateArn), /ExportsReader/);
  assert.equal(cfg.ViewerCertificate.MinimumProtocolVersion, 'TLSv1.2_2021');
  assert.deepEqual(cfg.Aliases, ['tickets.example.com']);
  const origin = cfg.Origins[0];
  assert.equal(origin.DomainName, 'origin.tickets.example.com');
  assert.equal(origin.CustomOriginConfig.OriginProtocolPolicy, 'https-only');
  const [, writer] = only(synth().edge, 'Custom::CrossRegionExportWriter');
  assert.equal(writer.WriterProps.region, 'ap-northeast-2', 'the edge stack writes for the application region');
  assert.equal(Object.keys(writer.WriterProps.exports).length, 2, 'the WebACL ARN and the certificate ARN');
});

test('CloudFront: catalogue cached briefly; API and waiting room not cached, everything forwarded', () => {
  const { main } = synth();
  const [policyId, policy] = only(main, 'AWS::CloudFront::CachePolicy');
  const cfg = only(main, 'AWS::CloudFront::Distribution')[1].DistributionConfig;
  const byPath = new Map<string, any>(cfg.CacheBehaviors.map((b: any) => [b.PathPattern, b]));

  // Default behaviour: the API. Not cached, every header but Host, every cookie and query.
  const api = cfg.DefaultCacheBehavior;
  assert.equal(api.CachePolicyId, CACHING_DISABLED);
  assert.equal(api.OriginRequestPolicyId, ALL_VIEWER_EXCEPT_HOST);
  assert.equal(api.ViewerProtocolPolicy, 'redirect-to-https');
  assert.deepEqual(api.AllowedMethods.sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);

  const queue = byPath.get('/v1/performances/*/queue*');
  assert.ok(queue, 'the waiting room has a behaviour of its own');
  assert.equal(queue.CachePolicyId, CACHING_DISABLED);
  assert.equal(queue.OriginRequestPolicyId, ALL_VIEWER_EXCEPT_HOST);

  for (const p of ['/v1/events*', '/v1/rankings*', '/v1/venues/*']) {
    const b = byPath.get(p);
    assert.ok(b, p);
    assert.deepEqual(b.CachePolicyId, { Ref: policyId }, `${p} uses the catalogue policy`);
    assert.deepEqual(b.AllowedMethods.sort(), ['GET', 'HEAD', 'OPTIONS']);
  }
  const c = policy.CachePolicyConfig;
  assert.ok(c.DefaultTTL <= 10, 'catalogue kept seconds by default');
  assert.equal(c.MinTTL, 0, 'the origin may say no-cache');
  assert.equal(c.ParametersInCacheKeyAndForwardedToOrigin.CookiesConfig.CookieBehavior, 'none');
  assert.equal(c.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.HeaderBehavior, 'none');
  assert.equal(byPath.get('/assets/*').CachePolicyId, CACHING_OPTIMIZED);

  // Behaviour order: the queue's pattern precedes nothing that would shadow it.
  const order = cfg.CacheBehaviors.map((b: any) => b.PathPattern);
  assert.ok(order.indexOf('/v1/performances/*/queue*') >= 0);
  // Errors are never served from the cache.
  for (const code of [500, 502, 503, 504]) {
    assert.ok(cfg.CustomErrorResponses.some((e: any) => e.ErrorCode === code && e.ErrorCachingMinTTL === 0));
  }
});

test('ALB: HTTPS with the ACM certificate, forwarding to the app pods by IP, /readyz checks', () => {
  const { main } = synth();
  const listeners = resources(main, 'AWS::ElasticLoadBalancingV2::Listener');
  assert.deepEqual(listeners.map(([, p]) => p.Port), [443], 'only HTTPS when only CloudFront reaches it');
  const https = listeners[0][1];
  assert.equal(https.Protocol, 'HTTPS');
  assert.equal(https.Certificates.length, 1);
  const [, tg] = only(main, 'AWS::ElasticLoadBalancingV2::TargetGroup');
  assert.equal(tg.TargetType, 'ip');
  assert.equal(tg.Port, 8080);
  assert.equal(tg.HealthCheckPath, '/readyz');
  const [, lb] = only(main, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
  assert.equal(lb.Scheme, 'internet-facing');
  const attrs = Object.fromEntries(lb.LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
  assert.equal(attrs['access_logs.s3.enabled'], 'true');
  assert.equal(attrs['routing.http.drop_invalid_header_fields.enabled'], 'true');
  assert.equal(attrs['deletion_protection.enabled'], 'true');
});
