import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { NAMES, PORTS } from './config';
import { serviceAccountRole } from './irsa';

/**
 * The service's Prometheus metrics, as CloudWatch metrics: the names the service exports on its
 * ops listener (GET /metrics on TICKETING_OPS_PORT) that the alarms and the dashboard use.
 * Counters arrive as the increase since the previous scrape (the agent turns Prometheus counters
 * into deltas), so Sum over a period is the count in that period.
 */
export const APP_METRICS = {
  /** gauge {performance}: people waiting (tail - serving), per process's queue view. */
  queueWaiting: 'queue_waiting',
  /** gauge {performance}: admitted buyers within their access window (workers). */
  queueActive: 'queue_active',
  /** counter {performance}: buyers admitted from the waiting room (workers' ticker). */
  admissions: 'queue_admissions_total',
  /** counter {performance}: seat holds that ran out (workers' ticker). */
  holdExpiries: 'hold_expiries_total',
  /** gauge {performance}: seat holds not yet expired. */
  holdsActive: 'holds_active',
  /** gauge: outbox rows not yet delivered to the broker (workers). */
  outboxPending: 'outbox_pending',
  /** counter: messages the worker parked after too many failures. */
  busParked: 'bus_messages_parked_total',
} as const;

/** Dimension every Ticketing metric carries. */
export const CLUSTER_DIMENSION = { ClusterName: NAMES.cluster };

const AGENT_NAMESPACE = 'amazon-cloudwatch';
const AGENT_NAME = 'cwagent-prometheus';

export interface MetricsAgentProps {
  readonly cluster: eks.Cluster;
  readonly image: string;
}

/**
 * The CloudWatch agent in Prometheus mode, run in the cluster: it discovers the ticketing pods
 * annotated prometheus.io/scrape=true (port from prometheus.io/port, the ops port), scrapes them
 * every 15 s and writes the selected metrics to the CloudWatch namespace Ticketing as embedded
 * metric format logs, with the dimension sets ClusterName and ClusterName+performance.
 */
export class MetricsAgent extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MetricsAgentProps) {
    super(scope, id);
    const { cluster } = props;
    const region = cluster.stack.region;
    this.role = serviceAccountRole(this, 'Role', cluster, AGENT_NAMESPACE, AGENT_NAME,
      'CloudWatch agent: Prometheus metrics of the ticketing pods into CloudWatch');
    this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy'));

    const perPerformance = [APP_METRICS.queueWaiting, APP_METRICS.queueActive, APP_METRICS.admissions,
      APP_METRICS.holdExpiries, APP_METRICS.holdsActive];
    const agentConfig = {
      agent: { region },
      logs: {
        metrics_collected: {
          prometheus: {
            cluster_name: NAMES.cluster,
            log_group_name: `/aws/containerinsights/${NAMES.cluster}/prometheus`,
            prometheus_config_path: '/etc/prometheusconfig/prometheus.yaml',
            emf_processor: {
              metric_namespace: NAMES.metricNamespace,
              metric_declaration: [
                {
                  source_labels: ['job'],
                  label_matcher: '^ticketing$',
                  dimensions: [['ClusterName'], ['ClusterName', 'performance']],
                  metric_selectors: perPerformance.map((m) => `^${m}$`),
                },
                {
                  source_labels: ['job'],
                  label_matcher: '^ticketing$',
                  dimensions: [['ClusterName']],
                  metric_selectors: [APP_METRICS.outboxPending, APP_METRICS.busParked].map((m) => `^${m}$`),
                },
              ],
            },
          },
        },
        force_flush_interval: 5,
      },
    };
    const prometheusConfig = [
      'global:',
      '  scrape_interval: 15s',
      '  scrape_timeout: 10s',
      'scrape_configs:',
      '  - job_name: ticketing',
      '    kubernetes_sd_configs:',
      '      - role: pod',
      '        namespaces:',
      `          names: [${NAMES.k8sNamespace}]`,
      '    relabel_configs:',
      '      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]',
      '        action: keep',
      "        regex: 'true'",
      '      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]',
      '        action: replace',
      "        regex: '([^:]+)(?::\\d+)?;(\\d+)'",
      "        replacement: '$1:$2'",
      '        target_label: __address__',
      '      - source_labels: [__meta_kubernetes_pod_name]',
      '        target_label: pod_name',
      '',
    ].join('\n');

    const labels = { app: AGENT_NAME };
    cluster.addManifest('MetricsAgent',
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: AGENT_NAMESPACE } },
      {
        apiVersion: 'v1', kind: 'ServiceAccount',
        metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE,
          annotations: { 'eks.amazonaws.com/role-arn': this.role.roleArn } },
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
        metadata: { name: AGENT_NAME },
        rules: [
          { apiGroups: [''], resources: ['pods', 'nodes', 'endpoints', 'services'], verbs: ['get', 'list', 'watch'] },
          { nonResourceURLs: ['/metrics'], verbs: ['get'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
        metadata: { name: AGENT_NAME },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AGENT_NAME },
        subjects: [{ kind: 'ServiceAccount', name: AGENT_NAME, namespace: AGENT_NAMESPACE }],
      },
      {
        apiVersion: 'v1', kind: 'ConfigMap',
        metadata: { name: `${AGENT_NAME}-config`, namespace: AGENT_NAMESPACE },
        data: { 'cwagentconfig.json': JSON.stringify(agentConfig, null, 2), 'prometheus.yaml': prometheusConfig },
      },
      {
        apiVersion: 'apps/v1', kind: 'Deployment',
        metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: AGENT_NAME,
              containers: [{
                name: 'cloudwatch-agent',
                image: props.image,
                resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '200m', memory: '200Mi' } },
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/cwagentconfig/cwagentconfig.json', subPath: 'cwagentconfig.json' },
                  { name: 'config', mountPath: '/etc/prometheusconfig/prometheus.yaml', subPath: 'prometheus.yaml' },
                ],
              }],
              volumes: [{ name: 'config', configMap: { name: `${AGENT_NAME}-config` } }],
            },
          },
        },
      },
    );
  }
}

/** The ops port the pods must annotate (prometheus.io/port) for the scrape. */
export const SCRAPE_PORT = PORTS.ops;
