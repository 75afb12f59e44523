import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { NAMES } from './config';
import { APP_METRICS, CLUSTER_DIMENSION } from './metrics-agent';

export interface ObservabilityProps {
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly database: rds.DatabaseInstance;
  readonly replica: rds.DatabaseInstanceReadReplica;
  /** CacheClusterIds of the Redis nodes (primary and replica). */
  readonly redisNodes: string[];
  readonly brokerName: string;
  readonly alarmEmail?: string;
}

/** The RabbitMQ queues of pattern A's bus whose depth is watched. */
export const BUS_QUEUES = { work: 'ticketing.worker', parking: 'ticketing.worker.parking' } as const;

/**
 * Alarms and one dashboard for a sale: the waiting room (queue length, admission rate, hold
 * expiries) from the service's own metrics, the edge of the origin (ALB 5xx and p99 latency),
 * and the data tier (RDS, Redis, Amazon MQ). Every alarm notifies one SNS topic.
 */
export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Alarms', { displayName: 'ticketing alarms' });
    if (props.alarmEmail) this.topic.addSubscription(new subs.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);
    const alarm = (cid: string, a: Omit<cloudwatch.CreateAlarmOptions, 'alarmName'> & { metric: cloudwatch.IMetric }) => {
      const made = new cloudwatch.Alarm(this, cid, {
        alarmName: `ticketing-${cid}`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...a,
      });
      made.addAlarmAction(notify);
      made.addOkAction(notify);
      this.alarms.push(made);
      return made;
    };
    const app = (metricName: string, statistic: string, period = Duration.minutes(1)) =>
      new cloudwatch.Metric({
        namespace: NAMES.metricNamespace, metricName, dimensionsMap: CLUSTER_DIMENSION, statistic, period,
      });

    // --- waiting room (the service's Prometheus metrics through the CloudWatch agent)
    const waiting = app(APP_METRICS.queueWaiting, 'Maximum');
    const admissions = app(APP_METRICS.admissions, 'Sum');
    const expiries5m = app(APP_METRICS.holdExpiries, 'Sum', Duration.minutes(5));
    const admissions5m = app(APP_METRICS.admissions, 'Sum', Duration.minutes(5));
    alarm('QueueLength', {
      alarmDescription: 'Waiting room longer than planned for: check node and pod scaling (KEDA).',
      metric: waiting, threshold: 100_000, evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    alarm('AdmissionStalled', {
      alarmDescription: 'People are waiting but nobody was admitted for 5 minutes: the workers\' ' +
        'admission ticker is down, or the sale is paused / at max active buyers.',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(waiting > 0 AND FILL(admitted, 0) == 0, 1, 0)',
        usingMetrics: { waiting, admitted: admissions },
        period: Duration.minutes(1),
        label: 'admission stalled',
      }),
      threshold: 1, evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    alarm('HoldExpiryRate', {
      alarmDescription: 'Most admitted buyers let their seat holds run out (hold TTL expiries per ' +
        'admission over 5 minutes): checkout or the payment provider is failing.',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(expired, 0) / (FILL(admitted, 0) + 1)',
        usingMetrics: { expired: expiries5m, admitted: admissions5m },
        period: Duration.minutes(5),
        label: 'hold expiries per admission',
      }),
      threshold: 0.5, evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    alarm('OutboxBacklog', {
      alarmDescription: 'Outbox rows not reaching the broker (Amazon MQ down or the relay stuck).',
      metric: app(APP_METRICS.outboxPending, 'Maximum'), threshold: 1000, evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    // --- load balancer
    const alb = props.alb.metrics;
    const requests = alb.requestCount({ period: Duration.minutes(1), statistic: 'Sum' });
    const target5xx = alb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: Duration.minutes(1), statistic: 'Sum' });
    const elb5xx = alb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: Duration.minutes(1), statistic: 'Sum' });
    const errors5xx = new cloudwatch.MathExpression({
      expression: 'FILL(t5, 0) + FILL(e5, 0)', usingMetrics: { t5: target5xx, e5: elb5xx },
      period: Duration.minutes(1), label: '5xx',
    });
    alarm('Alb5xxCount', {
      alarmDescription: 'More than 1,000 5xx answers a minute at the load balancer.',
      metric: errors5xx, threshold: 1000, evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    const ratio5xx = new cloudwatch.MathExpression({
      expression: '(FILL(t5, 0) + FILL(e5, 0)) / (FILL(req, 0) + 1)',
      usingMetrics: { t5: target5xx, e5: elb5xx, req: requests },
      period: Duration.minutes(1), label: '5xx ratio',
    });
    alarm('Alb5xxRatio', {
      alarmDescription: 'More than 2% of requests answered 5xx (503 is the service shedding load or ' +
        'a failover in progress).',
      metric: ratio5xx, threshold: 0.02, evaluationPeriods: 3, datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    const p99 = alb.targetResponseTime({ period: Duration.minutes(1), statistic: 'p99' });
    alarm('AlbLatencyP99', {
      alarmDescription: 'p99 of the app\'s response time above 1 s.',
      metric: p99, threshold: 1, evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    // --- RDS
    const dbCpu = props.database.metricCPUUtilization({ period: Duration.minutes(1) });
    alarm('DbCpu', {
      alarmDescription: 'PostgreSQL primary CPU above 80%.', metric: dbCpu, threshold: 80, evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    const dbFree = props.database.metricFreeStorageSpace({ period: Duration.minutes(5) });
    alarm('DbFreeStorage', {
      alarmDescription: 'PostgreSQL primary has less than 10 GiB of free storage.',
      metric: dbFree, threshold: 10 * 1024 ** 3, evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    });
    const lag = new cloudwatch.Metric({
      namespace: 'AWS/RDS', metricName: 'ReplicaLag', statistic: 'Maximum', period: Duration.minutes(1),
      dimensionsMap: { DBInstanceIdentifier: props.replica.instanceIdentifier },
    });
    alarm('DbReplicaLag', {
      alarmDescription: 'Read replica more than 30 s behind (the service already reads the catalogue ' +
        'from the primary past 1 s).',
      metric: lag, threshold: 30, evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    // --- Redis, per node
    const redisCpu: cloudwatch.Metric[] = [];
    const redisMem: cloudwatch.Metric[] = [];
    props.redisNodes.forEach((node, i) => {
      const m = (metricName: string) => new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache', metricName, statistic: 'Maximum', period: Duration.minutes(1),
        dimensionsMap: { CacheClusterId: node },
      });
      const cpu = m('EngineCPUUtilization');
      const mem = m('DatabaseMemoryUsagePercentage');
      redisCpu.push(cpu);
      redisMem.push(mem);
      alarm(`RedisCpu${i + 1}`, {
        alarmDescription: `Redis node ${node}: engine CPU above 75% (Redis runs commands on one core).`,
        metric: cpu, threshold: 75, evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
      alarm(`RedisMemory${i + 1}`, {
        alarmDescription: `Redis node ${node}: memory above 80% of maxmemory.`,
        metric: mem, threshold: 80, evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    });

    // --- Amazon MQ (RabbitMQ queue metrics: Broker, VirtualHost, Queue)
    const queueDepth = (queue: string) => new cloudwatch.Metric({
      namespace: 'AWS/AmazonMQ', metricName: 'MessageCount', statistic: 'Maximum', period: Duration.minutes(1),
      dimensionsMap: { Broker: props.brokerName, VirtualHost: '/', Queue: queue },
    });
    const workDepth = queueDepth(BUS_QUEUES.work);
    const parkedDepth = queueDepth(BUS_QUEUES.parking);
    alarm('MqQueueDepth', {
      alarmDescription: 'More than 50,000 messages waiting for the workers: scale the workers.',
      metric: workDepth, threshold: 50_000, evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    alarm('MqParked', {
      alarmDescription: 'Messages parked after repeated failures: look at them (receipts, refunds).',
      metric: parkedDepth, threshold: 0, evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    // --- the dashboard of a sale
    const g = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: 'ticketing',
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      g('Waiting room: queue length / active buyers', [waiting], [app(APP_METRICS.queueActive, 'Maximum')]),
      g('Admissions per minute', [admissions]),
      g('Hold expiries per minute / active holds',
        [app(APP_METRICS.holdExpiries, 'Sum')], [app(APP_METRICS.holdsActive, 'Maximum')]),
    );
    this.dashboard.addWidgets(
      g('ALB requests / 5xx', [requests], [errors5xx]),
      g('ALB 5xx ratio', [ratio5xx]),
      g('ALB p99 / p50 response time (s)', [p99,
        alb.targetResponseTime({ period: Duration.minutes(1), statistic: 'p50' })]),
    );
    this.dashboard.addWidgets(
      g('RDS CPU % / replica lag (s)', [dbCpu], [lag]),
      g('RDS free storage (bytes)', [dbFree]),
      g('Redis engine CPU % / memory %', redisCpu, redisMem),
    );
    this.dashboard.addWidgets(
      g('Bus: work queue / parked', [workDepth], [parkedDepth]),
      g('Outbox pending', [app(APP_METRICS.outboxPending, 'Maximum')]),
    );
  }
}
