import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { APP_METRICS } from '../lib/metrics-agent';
import { resources, synth } from './fixture';

interface Watched { namespace: string; metric: string; stat?: string; dims: Record<string, unknown> }

/** The metrics an alarm watches, directly or through metric math. */
function watched(p: any): Watched[] {
  const dims = (ds: any[] = []) => Object.fromEntries(ds.map((d) => [d.Name, d.Value]));
  if (p.MetricName) {
    return [{ namespace: p.Namespace, metric: p.MetricName, stat: p.Statistic ?? p.ExtendedStatistic, dims: dims(p.Dimensions) }];
  }
  return (p.Metrics ?? []).filter((m: any) => m.MetricStat).map((m: any) => ({
    namespace: m.MetricStat.Metric.Namespace, metric: m.MetricStat.Metric.MetricName, stat: m.MetricStat.Stat,
    dims: dims(m.MetricStat.Metric.Dimensions),
  }));
}

test('alarms: one for each signal of the design', () => {
  const { main } = synth();
  const alarms = resources(main, 'AWS::CloudWatch::Alarm');
  const all = alarms.flatMap(([, p]) => watched(p).map((w) => `${w.namespace}/${w.metric}${w.stat === 'p99' ? ':p99' : ''}`));
  const expected = [
    'Ticketing/queue_waiting',            // waiting-room queue length
    'Ticketing/queue_admissions_total',   // admission rate
    'Ticketing/hold_expiries_total',      // hold TTL expiry rate
    'Ticketing/outbox_pending',
    'AWS/ApplicationELB/HTTPCode_Target_5XX_Count', 'AWS/ApplicationELB/HTTPCode_ELB_5XX_Count',
    'AWS/ApplicationELB/RequestCount',    // 5xx ratio
    'AWS/ApplicationELB/TargetResponseTime:p99',
    'AWS/RDS/CPUUtilization', 'AWS/RDS/FreeStorageSpace', 'AWS/RDS/ReplicaLag',
    'AWS/ElastiCache/EngineCPUUtilization', 'AWS/ElastiCache/DatabaseMemoryUsagePercentage',
    'AWS/AmazonMQ/MessageCount',
  ];
  for (const e of expected) assert.ok(all.includes(e), `an alarm on ${e}`);
  // Every alarm notifies the topic, both ways.
  for (const [id, p] of alarms) {
    assert.equal(p.AlarmActions.length, 1, id);
    assert.equal(p.OKActions.length, 1, id);
  }
  // Redis: both nodes watched; RDS replica lag on the replica.
  const redisNodes = new Set(alarms.flatMap(([, p]) => watched(p))
    .filter((w) => w.namespace === 'AWS/ElastiCache').map((w) => w.dims.CacheClusterId));
  assert.deepEqual([...redisNodes].sort(), ['ticketing-redis-001', 'ticketing-redis-002']);
  const queues = alarms.flatMap(([, p]) => watched(p)).filter((w) => w.namespace === 'AWS/AmazonMQ')
    .map((w) => w.dims.Queue).sort();
  assert.deepEqual(queues, ['ticketing.worker', 'ticketing.worker.parking']);
});

test('alarms: the 5xx ratio, admission stall and hold expiry alarms are metric math over the right inputs', () => {
  const { main } = synth();
  const byName = new Map(resources(main, 'AWS::CloudWatch::Alarm').map(([, p]) => [p.AlarmName, p]));
  const expr = (n: string) => byName.get(n).Metrics.find((m: any) => m.Expression).Expression;
  assert.match(expr('ticketing-Alb5xxRatio'), /\/ \(FILL\(req, 0\) \+ 1\)/);
  assert.match(expr('ticketing-AdmissionStalled'), /waiting > 0 AND FILL\(admitted, 0\) == 0/);
  assert.match(expr('ticketing-HoldExpiryRate'), /expired.*\/.*admitted/);
});

test('metrics: every Ticketing metric is one the service really exports', () => {
  // The service's sources register each metric by its name as a string literal.
  const src = path.resolve(__dirname, '..', '..', '..', '..', 'src');
  const text: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(cpp|hpp)$/.test(e.name)) text.push(fs.readFileSync(f, 'utf8'));
    }
  };
  walk(src);
  const all = text.join('\n');
  for (const name of Object.values(APP_METRICS)) {
    assert.match(all, new RegExp(`(counter|gauge|histogram)\\(\\s*"${name}"`), `${name} is registered in src/`);
  }
  // And the alarms use no other Ticketing metric.
  const { main } = synth();
  const used = resources(main, 'AWS::CloudWatch::Alarm').flatMap(([, p]) => watched(p))
    .filter((w) => w.namespace === 'Ticketing').map((w) => w.metric);
  for (const m of used) assert.ok((Object.values(APP_METRICS) as string[]).includes(m), m);
});

test('metrics: the CloudWatch agent scrapes the ticketing pods into the Ticketing namespace', () => {
  const { main } = synth();
  const manifests = resources(main, 'Custom::AWSCDK-EKS-KubernetesResource').map(([, p]) => JSON.stringify(p.Manifest));
  const agent = manifests.find((m) => m.includes('cwagentconfig.json'));
  assert.ok(agent, 'the agent is applied to the cluster');
  assert.ok(agent.includes('\\\\\\"metric_namespace\\\\\\": \\\\\\"Ticketing\\\\\\"') || agent.includes('metric_namespace'));
  for (const name of Object.values(APP_METRICS)) assert.ok(agent.includes(`^${name}$`), name);
  assert.ok(agent.includes('prometheus_io_scrape'));
});

test('dashboard: one, with the waiting room, the ALB and the data tier', () => {
  const { main } = synth();
  const [, d] = resources(main, 'AWS::CloudWatch::Dashboard')[0];
  const body = JSON.stringify(d.DashboardBody);
  for (const m of ['queue_waiting', 'queue_admissions_total', 'hold_expiries_total', 'TargetResponseTime',
    'ReplicaLag', 'EngineCPUUtilization', 'MessageCount']) {
    assert.ok(body.includes(m), m);
  }
});
