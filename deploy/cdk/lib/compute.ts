import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { KubectlV33Layer } from '@aws-cdk/lambda-layer-kubectl-v33';
import { Construct } from 'constructs';
import { NAMES } from './config';
import { serviceAccountRole } from './irsa';

/** Helm charts installed into the cluster, pinned (bump deliberately). */
export const CHARTS = {
  keda: { repository: 'https://kedacore.github.io/charts', chart: 'keda', version: '2.17.0', namespace: 'keda' },
  // Serves external-secrets.io/v1beta1, which the SecretStore of deploy/k8s uses.
  externalSecrets: {
    repository: 'https://charts.external-secrets.io', chart: 'external-secrets', version: '0.17.0',
    namespace: 'external-secrets',
  },
  // Prometheus (operator) for KEDA's waiting-room trigger and the CloudWatch agent's federation.
  prometheus: {
    repository: 'https://prometheus-community.github.io/helm-charts', chart: 'kube-prometheus-stack',
    version: '75.0.0', namespace: 'monitoring',
  },
  loadBalancerController: {
    repository: 'https://aws.github.io/eks-charts', chart: 'aws-load-balancer-controller', version: '1.13.0',
    namespace: 'kube-system',
  },
  // Fluent Bit on every node: the application pods' stdout (JSON lines: requests, spans with
  // their trace ids) into CloudWatch Logs.
  fluentBit: {
    repository: 'https://aws.github.io/eks-charts', chart: 'aws-for-fluent-bit', version: '0.1.35',
    namespace: 'logging',
  },
} as const;

/** Where the application pods' log lines go (a trace's lines are joined there on trace_id). */
export const CONTAINER_LOG_GROUP = '/ticketing/containers';

/** Prometheus's scrape job of the ticketing pods. */
export const PROMETHEUS_JOB = 'ticketing';
/** Where Prometheus answers inside the cluster (the operator's service). */
export const PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';

/** The service account of the application namespace that External Secrets reads as (IRSA). */
export const EXTERNAL_SECRETS_READER = 'external-secrets-reader';

export interface ComputeProps {
  readonly vpc: ec2.IVpc;
  readonly appSubnets: ec2.SubnetSelection;
  readonly appSecurityGroup: ec2.ISecurityGroup;
  /** Exactly the secrets the pods may read through External Secrets. */
  readonly appSecrets: secretsmanager.ISecret[];
  /** Namespace of the application's pods (deploy/k8s). */
  readonly appNamespace: string;
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  readonly instanceType: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly adminRoleArn?: string;
}

/**
 * EKS for the service's roles (gateway, api, worker): a managed node group across both AZs in
 * the app subnets, and the cluster add-ons the manifests in deploy/k8s rely on: KEDA (queue
 * length autoscaling), External Secrets (Secrets Manager -> Kubernetes Secrets) and the AWS Load
 * Balancer Controller (TargetGroupBinding: pods into the ALB's target group), each with its own
 * IAM role for its service account.
 */
export class Compute extends Construct {
  readonly cluster: eks.Cluster;
  readonly nodegroup: eks.Nodegroup;
  readonly externalSecretsRole: iam.Role;
  readonly kedaRole: iam.Role;
  readonly loadBalancerControllerRole: iam.Role;
  readonly fluentBitRole: iam.Role;
  readonly containerLogs: logs.LogGroup;
  readonly prometheusChart: eks.HelmChart;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    this.cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: NAMES.cluster,
      version: eks.KubernetesVersion.V1_33,
      kubectlLayer: new KubectlV33Layer(this, 'Kubectl'),
      vpc: props.vpc,
      vpcSubnets: [props.appSubnets],
      defaultCapacity: 0,
      endpointAccess: eks.EndpointAccess.PUBLIC_AND_PRIVATE,
      authenticationMode: eks.AuthenticationMode.API_AND_CONFIG_MAP,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
      ],
    });
    if (props.adminRoleArn) {
      this.cluster.grantAccess('Admin', props.adminRoleArn, [
        eks.AccessPolicy.fromAccessPolicyName('AmazonEKSClusterAdminPolicy', {
          accessScopeType: eks.AccessScopeType.CLUSTER,
        }),
      ]);
    }

    // Nodes carry the cluster security group (control plane <-> nodes, pod <-> pod, the metrics
    // scrape) and the app security group, the one the ALB and the data tier name.
    const launchTemplate = new ec2.CfnLaunchTemplate(this, 'NodeTemplate', {
      launchTemplateData: {
        securityGroupIds: [this.cluster.clusterSecurityGroupId, props.appSecurityGroup.securityGroupId],
        metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 },
        blockDeviceMappings: [
          { deviceName: '/dev/xvda', ebs: { volumeSize: 50, volumeType: 'gp3', encrypted: true } },
        ],
      },
    });
    this.nodegroup = this.cluster.addNodegroupCapacity('App', {
      nodegroupName: 'app',
      subnets: props.appSubnets,
      instanceTypes: [new ec2.InstanceType(props.instanceType)],
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      minSize: props.minNodes,
      desiredSize: props.minNodes,
      maxSize: props.maxNodes,
      launchTemplateSpec: { id: launchTemplate.ref, version: launchTemplate.attrLatestVersionNumber },
      labels: { 'ticketing/tier': 'app' },
    });
    this.nodegroup.role.addManagedPolicy(
      iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
    );

    // External Secrets: the application namespace's SecretStore authenticates as the service
    // account external-secrets-reader (deploy/k8s), which alone may read exactly the
    // application's secrets. The operator itself holds no AWS permission.
    const es = CHARTS.externalSecrets;
    this.externalSecretsRole = serviceAccountRole(this, 'ExternalSecretsRole', this.cluster,
      props.appNamespace, EXTERNAL_SECRETS_READER, 'External Secrets: read the ticketing secrets');
    this.externalSecretsRole.addToPolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: props.appSecrets.map((s) => s.secretArn),
    }));
    const esChart = this.cluster.addHelmChart('ExternalSecrets', {
      repository: es.repository, chart: es.chart, version: es.version, namespace: es.namespace,
      release: 'external-secrets', createNamespace: true, wait: true, timeout: Duration.minutes(10),
      values: { installCRDs: true },
    });
    esChart.node.addDependency(this.nodegroup);

    // KEDA: its operator reads CloudWatch for scalers on the Ticketing metrics (queue length).
    const keda = CHARTS.keda;
    this.kedaRole = serviceAccountRole(this, 'KedaRole', this.cluster, keda.namespace,
      'keda-operator', 'KEDA operator: read CloudWatch metrics for scalers');
    this.kedaRole.addToPolicy(new iam.PolicyStatement({
      // These actions have no resource-level scoping.
      actions: ['cloudwatch:GetMetricData', 'cloudwatch:GetMetricStatistics', 'cloudwatch:ListMetrics'],
      resources: ['*'],
    }));
    const kedaChart = this.cluster.addHelmChart('Keda', {
      repository: keda.repository, chart: keda.chart, version: keda.version, namespace: keda.namespace,
      release: 'keda', createNamespace: true, wait: true, timeout: Duration.minutes(10),
      // The chart annotates its keda-operator service account with the role.
      values: { podIdentity: { aws: { irsa: { enabled: true, roleArn: this.kedaRole.roleArn } } } },
    });
    kedaChart.node.addDependency(this.nodegroup);

    // AWS Load Balancer Controller, used only for TargetGroupBinding: it registers and
    // deregisters pod IPs in the ALB's target group. No Ingress, so it creates no load balancer.
    const lbc = CHARTS.loadBalancerController;
    this.loadBalancerControllerRole = serviceAccountRole(this, 'LoadBalancerControllerRole',
      this.cluster, lbc.namespace, 'aws-load-balancer-controller',
      'AWS Load Balancer Controller: register pods in the ticketing target group');
    this.loadBalancerControllerRole.addToPolicy(new iam.PolicyStatement({
      actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      resources: [props.targetGroup.targetGroupArn],
    }));
    this.loadBalancerControllerRole.addToPolicy(new iam.PolicyStatement({
      actions: [
        'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetGroupAttributes',
        'ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeAvailabilityZones',
      ],
      resources: ['*'],
    }));
    const lbcChart = this.cluster.addHelmChart('LoadBalancerController', {
      repository: lbc.repository, chart: lbc.chart, version: lbc.version, namespace: lbc.namespace,
      release: 'aws-load-balancer-controller', wait: true, timeout: Duration.minutes(10),
      values: {
        clusterName: NAMES.cluster,
        region: this.cluster.stack.region,
        vpcId: props.vpc.vpcId,
        serviceAccount: {
          name: 'aws-load-balancer-controller',
          annotations: { 'eks.amazonaws.com/role-arn': this.loadBalancerControllerRole.roleArn },
        },
        // TargetGroupBinding only: no Ingress or Service of type LoadBalancer is reconciled
        // into new AWS load balancers.
        enableServiceMutatorWebhook: false,
      },
    });
    lbcChart.node.addDependency(this.nodegroup);

    // Prometheus in the namespace deploy/k8s lets scrape the pods' ops port (its NetworkPolicy
    // admits pods labelled app.kubernetes.io/name=prometheus from namespace monitoring). One job,
    // "ticketing", scrapes the pods annotated prometheus.io/scrape and labels each series with
    // its namespace; KEDA queries it at prometheus-operated.monitoring.svc:9090.
    const prom = CHARTS.prometheus;
    const promChart = this.cluster.addHelmChart('Prometheus', {
      repository: prom.repository, chart: prom.chart, version: prom.version, namespace: prom.namespace,
      release: 'monitoring', createNamespace: true, wait: true, timeout: Duration.minutes(15),
      values: {
        grafana: { enabled: false },
        alertmanager: { enabled: false },
        prometheus: {
          prometheusSpec: {
            retention: '7d',
            additionalScrapeConfigs: [{
              job_name: PROMETHEUS_JOB,
              kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [props.appNamespace] } }],
              relabel_configs: [
                { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
                {
                  source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
                  action: 'replace', regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: '__address__',
                },
                { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
                { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
                { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'], target_label: 'component' },
              ],
            }],
          },
        },
      },
    });
    promChart.node.addDependency(this.nodegroup);
    this.prometheusChart = promChart;

    // The application's log lines in CloudWatch Logs: Fluent Bit tails the ticketing
    // namespace's container logs on each node and may write exactly this group.
    this.containerLogs = new logs.LogGroup(this, 'ContainerLogs', {
      logGroupName: CONTAINER_LOG_GROUP, retention: logs.RetentionDays.ONE_MONTH,
    });
    const fb = CHARTS.fluentBit;
    this.fluentBitRole = serviceAccountRole(this, 'FluentBitRole', this.cluster, fb.namespace,
      'fluent-bit', 'Fluent Bit: ship the ticketing pods\' logs to CloudWatch Logs');
    this.fluentBitRole.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [this.containerLogs.logGroupArn, `${this.containerLogs.logGroupArn}:log-stream:*`],
    }));
    const fbChart = this.cluster.addHelmChart('FluentBit', {
      repository: fb.repository, chart: fb.chart, version: fb.version, namespace: fb.namespace,
      release: 'fluent-bit', createNamespace: true, wait: true, timeout: Duration.minutes(10),
      values: {
        serviceAccount: {
          create: true, name: 'fluent-bit',
          annotations: { 'eks.amazonaws.com/role-arn': this.fluentBitRole.roleArn },
        },
        input: { path: `/var/log/containers/*_${props.appNamespace}_*.log` },
        cloudWatchLogs: {
          enabled: true, region: this.cluster.stack.region, logGroupName: CONTAINER_LOG_GROUP,
          autoCreateGroup: false,
        },
        firehose: { enabled: false },
        kinesis: { enabled: false },
        elasticsearch: { enabled: false },
      },
    });
    fbChart.node.addDependency(this.nodegroup);
  }
}
