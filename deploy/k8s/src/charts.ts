// The two process layouts of the ticketing image as cdk8s charts. Every object is built as a
// kubernetes-models (or KEDA / External Secrets models) type, so a misspelt field fails to
// compile, and emitted through cdk8s as YAML.
import { ApiObject, App, Chart, YamlOutputType } from "cdk8s";
import { Construct } from "constructs";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";
import type { IContainerPort } from "kubernetes-models/v1/ContainerPort";
import type { ILabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import type { INetworkPolicyPort } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { ExternalSecret } from "@kubernetes-models/external-secrets/external-secrets.io/v1beta1/ExternalSecret";
import { SecretStore } from "@kubernetes-models/external-secrets/external-secrets.io/v1beta1/SecretStore";
import { TargetGroupBinding } from "./models/elbv2.k8s.aws/v1beta1";
import * as svc from "./service";
import { check, imageRef, Settings } from "./settings";

export type Pattern = "a" | "b";

interface Model {
  toJSON(): unknown;
}

// Emits a model through cdk8s (the model's own JSON: nothing added, nothing renamed).
function emit(scope: Construct, model: Model): void {
  const { apiVersion, kind, metadata, ...rest } = model.toJSON() as {
    apiVersion: string;
    kind: string;
    metadata: { name: string };
  } & Record<string, unknown>;
  new ApiObject(scope, `${kind.toLowerCase()}-${metadata.name}`, {
    apiVersion,
    kind,
    metadata,
    ...rest,
  });
}

const APP = "ticketing";
const SECRET_NAME = "ticketing-secrets";
const KEDA_AMQP_SECRET = "rabbitmq-keda";
const CONFIG_NAME = "ticketing-config";
const SECRETS_SA = "external-secrets-reader";
const STORE = "aws-secrets-manager";
const TUNNEL = "tls-tunnel"; // the sidecar, its ConfigMap and its volume
const TUNNEL_SECRET = "ticketing-tunnel-urls"; // the service's Redis and AMQP URLs through it
const LOOPBACK = "127.0.0.1";

// The keys whose URLs go through the TLS tunnel when it is on: read from TUNNEL_SECRET, with the
// host and port replaced by the tunnel's end on loopback (the password stays as it is).
const TUNNELLED: Record<string, { secret: "redis" | "rabbitmq"; scheme: string; port: number }> = {
  TICKETING_REDIS_URL: { secret: "redis", scheme: "redis", port: svc.REDIS_PORT },
  TICKETING_AMQP_URL: { secret: "rabbitmq", scheme: "amqp", port: svc.AMQP_PORT },
};

function tunnelled(s: Settings, env: string): boolean {
  return s.tlsTunnel.enabled && env in TUNNELLED;
}

// One process kind of a pattern: its Deployment name, role and what it serves.
interface Component {
  name: string; // Deployment, Service, ServiceAccount and component label
  role: svc.Role;
  public: boolean; // has the public listener
  front: boolean; // reached by the load balancer
  drainDelayMs: number;
  drainTimeoutMs: number;
  preStopSeconds: number;
}

function components(p: Pattern): Component[] {
  if (p === "b") {
    return [
      { name: "ticketing", role: "all", public: true, front: true, drainDelayMs: 5000, drainTimeoutMs: 10000, preStopSeconds: 5 },
    ];
  }
  return [
    { name: "gateway", role: "gateway", public: true, front: true, drainDelayMs: 5000, drainTimeoutMs: 10000, preStopSeconds: 5 },
    { name: "api", role: "api", public: true, front: false, drainDelayMs: 3000, drainTimeoutMs: 10000, preStopSeconds: 3 },
    { name: "worker", role: "worker", public: false, front: false, drainDelayMs: 1000, drainTimeoutMs: 15000, preStopSeconds: 0 },
  ];
}

// Enough for the preStop pause, the drain delay (unready but serving), the drain timeout
// (in-flight requests) and a margin for closing connections and background loops.
export function gracePeriodSeconds(c: Component): number {
  return c.preStopSeconds + Math.ceil((c.drainDelayMs + c.drainTimeoutMs) / 1000) + 10;
}

function labels(c: Component): Record<string, string> {
  return { "app.kubernetes.io/name": APP, "app.kubernetes.io/component": c.name };
}

function meta(s: Settings, name: string, extra: Record<string, string> = {}) {
  return { name, namespace: s.namespace, labels: { "app.kubernetes.io/part-of": APP, ...extra } };
}

function secretKeys(p: Pattern): svc.SecretKey[] {
  return svc.SECRET_KEYS.filter((k) => p === "a" || k.secret !== "rabbitmq");
}

function secretEnv(s: Settings, role: svc.Role, p: Pattern): IEnvVar[] {
  return secretKeys(p)
    .filter((k) => k.roles.includes(role))
    .map((k) => ({
      name: k.env,
      valueFrom: { secretKeyRef: { name: tunnelled(s, k.env) ? TUNNEL_SECRET : SECRET_NAME, key: k.env } },
    }));
}

// Every container: non-root, read-only root filesystem, nothing to escalate to (the namespace
// enforces the restricted Pod Security level).
const securityContext = (): ISecurityContext => ({
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
});

// Does this role talk to the broker in this pattern (pattern B has none)?
function usesBroker(role: svc.Role, p: Pattern): boolean {
  return p === "a" && svc.USES.rabbitmq.includes(role);
}

// stunnel's configuration for a role: Redis always, the broker for the roles that use it.
function tunnelConfigKey(role: svc.Role, p: Pattern): string {
  return usesBroker(role, p) ? "redis-amqp.conf" : "redis.conf";
}

function tunnelConfig(s: Settings, withBroker: boolean): string {
  const t = s.tlsTunnel;
  const service = (name: string, localPort: number, host: string, port: number) => [
    `[${name}]`,
    "client = yes",
    // All pod addresses: kubelet's TCP probes connect to the pod IP, not to its loopback. No
    // NetworkPolicy admits this port into the pod; the service connects over 127.0.0.1.
    `accept = ${localPort}`,
    `connect = ${host}:${port}`,
    "delay = yes", // resolve at each connection: the endpoint's address moves on a failover
    `sni = ${host}`,
    "verifyChain = yes",
    "CAfile = /etc/ssl/certs/ca-certificates.crt",
    `checkHost = ${host}`,
    "sslVersionMin = TLSv1.2",
    "TIMEOUTidle = 86400", // the clients keep long-lived connections (heartbeats, pooled Redis)
    "",
  ];
  return [
    "; TLS tunnel: plain on the pod's port, TLS to the managed endpoint",
    "foreground = yes",
    "pid =",
    "syslog = no",
    "debug = notice",
    "",
    ...service("redis", svc.REDIS_PORT, t.redisHost, t.redisPort),
    ...(withBroker ? service("amqp", svc.AMQP_PORT, t.rabbitmqHost, t.rabbitmqPort) : []),
  ].join("\n");
}

function tunnelContainer(s: Settings, c: Component, p: Pattern): IContainer {
  const t = s.tlsTunnel;
  const ports: IContainerPort[] = [{ name: "redis-tunnel", containerPort: svc.REDIS_PORT, protocol: "TCP" }];
  if (usesBroker(c.role, p)) ports.push({ name: "amqp-tunnel", containerPort: svc.AMQP_PORT, protocol: "TCP" });
  const tcpProbe = (period: number, failures: number) => ({
    tcpSocket: { port: svc.REDIS_PORT },
    periodSeconds: period,
    failureThreshold: failures,
    timeoutSeconds: 1,
  });
  return {
    name: TUNNEL,
    image: t.image,
    imagePullPolicy: t.pullPolicy,
    // A native sidecar (Kubernetes 1.29+): started, and its startup probe passed, before the
    // service's container; stopped after it.
    restartPolicy: "Always",
    command: ["stunnel", `/etc/stunnel/${tunnelConfigKey(c.role, p)}`],
    ports,
    resources: { requests: { ...t.resources.requests }, limits: { ...t.resources.limits } },
    startupProbe: tcpProbe(1, 30),
    readinessProbe: tcpProbe(5, 2),
    livenessProbe: tcpProbe(10, 3),
    securityContext: securityContext(),
    volumeMounts: [{ name: TUNNEL, mountPath: "/etc/stunnel", readOnly: true }],
  };
}

function container(s: Settings, c: Component, p: Pattern): IContainer {
  const env: IEnvVar[] = [
    { name: "TICKETING_ROLE", value: c.role },
    { name: "TICKETING_THREADS", value: String(s.threads[c.role]) },
    { name: "TICKETING_DRAIN_DELAY_MS", value: String(c.drainDelayMs) },
    { name: "TICKETING_DRAIN_TIMEOUT_MS", value: String(c.drainTimeoutMs) },
  ];
  if (c.role === "api" || c.role === "all") {
    // Password hashing threads: half the container's CPU limit, at least one.
    env.push({ name: "TICKETING_ARGON2_THREADS", value: String(Math.max(1, Math.floor(s.threads[c.role] / 2))) });
  }
  if (c.role === "gateway") {
    // The gateway takes IP addresses only; Kubernetes puts the api Service's cluster address and
    // port in these variables (service links), and kubelet expands them when the container starts.
    env.push({ name: "TICKETING_GATEWAY_UPSTREAMS", value: "$(API_SERVICE_HOST):$(API_SERVICE_PORT_HTTP)" });
    env.push({ name: "TICKETING_TRUSTED_PROXIES", value: s.network.frontTrustedProxies });
  } else if (c.role === "api") {
    env.push({ name: "TICKETING_TRUSTED_PROXIES", value: s.network.apiTrustedProxies });
  } else if (c.role === "all") {
    env.push({ name: "TICKETING_TRUSTED_PROXIES", value: s.network.frontTrustedProxies });
  }
  env.push(...secretEnv(s, c.role, p));

  const ports: IContainerPort[] = [{ name: "ops", containerPort: svc.OPS_PORT, protocol: "TCP" }];
  if (c.public) ports.unshift({ name: "http", containerPort: svc.HTTP_PORT, protocol: "TCP" });

  const r = s.resources[c.role];
  const out: IContainer = {
    name: "ticketing",
    image: imageRef(s),
    imagePullPolicy: s.image.pullPolicy,
    envFrom: [{ configMapRef: { name: CONFIG_NAME } }],
    env,
    ports,
    resources: { requests: { ...r.requests }, limits: { ...r.limits } },
    startupProbe: {
      httpGet: { path: svc.LIVE_PATH, port: "ops" },
      periodSeconds: 2,
      failureThreshold: 60, // migrations run at start-up under an advisory lock
      timeoutSeconds: 2,
    },
    readinessProbe: {
      httpGet: { path: svc.READY_PATH, port: "ops" },
      periodSeconds: 2,
      failureThreshold: 2,
      successThreshold: 1,
      timeoutSeconds: 1,
    },
    livenessProbe: {
      httpGet: { path: svc.LIVE_PATH, port: "ops" },
      periodSeconds: 10,
      failureThreshold: 3,
      timeoutSeconds: 2,
    },
    securityContext: securityContext(),
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
  };
  if (c.preStopSeconds > 0) {
    // Endpoints and the load balancer's targets drop a terminating pod a moment after it is
    // deleted: keep serving (and answering ready) meanwhile; then SIGTERM starts the drain.
    out.lifecycle = { preStop: { sleep: { seconds: c.preStopSeconds } } };
  }
  return out;
}

function deployment(s: Settings, c: Component, p: Pattern): Deployment {
  const l = labels(c);
  return new Deployment({
    metadata: meta(s, c.name, l),
    spec: {
      // No replicas: the HorizontalPodAutoscaler or KEDA owns the count.
      revisionHistoryLimit: 5,
      minReadySeconds: 5,
      selector: { matchLabels: l },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: { ...l, "app.kubernetes.io/part-of": APP },
          annotations: {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(svc.OPS_PORT),
            "prometheus.io/path": svc.METRICS_PATH,
          },
        },
        spec: {
          serviceAccountName: c.name,
          automountServiceAccountToken: false,
          enableServiceLinks: c.role === "gateway",
          terminationGracePeriodSeconds: gracePeriodSeconds(c),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
          },
          topologySpreadConstraints: [
            {
              topologyKey: "topology.kubernetes.io/zone",
              maxSkew: 1,
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: l },
              matchLabelKeys: ["pod-template-hash"],
            },
            {
              topologyKey: "kubernetes.io/hostname",
              maxSkew: 1,
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: l },
              matchLabelKeys: ["pod-template-hash"],
            },
          ],
          ...(s.tlsTunnel.enabled ? { initContainers: [tunnelContainer(s, c, p)] } : {}),
          containers: [container(s, c, p)],
          volumes: [
            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
            ...(s.tlsTunnel.enabled
              ? [{ name: TUNNEL, configMap: { name: TUNNEL, items: [{ key: tunnelConfigKey(c.role, p), path: tunnelConfigKey(c.role, p) }] } }]
              : []),
          ],
        },
      },
    },
  });
}

function configMap(s: Settings, p: Pattern): ConfigMap {
  const data: Record<string, string> = {
    TICKETING_HTTP_HOST: "0.0.0.0",
    TICKETING_HTTP_PORT: String(svc.HTTP_PORT),
    // Reached by kubelet's probes and Prometheus on the pod address; NetworkPolicies admit only
    // Prometheus to it.
    TICKETING_OPS_HOST: "0.0.0.0",
    TICKETING_OPS_PORT: String(svc.OPS_PORT),
    TICKETING_ACCESS_LOG: "1",
    TICKETING_SECRET_KID: "k1",
    TICKETING_TICKET_SIGNING_KID: "e1",
    TICKETING_PG_UNREADY_AFTER_MS: "5000",
    TICKETING_REQUEST_TIMEOUT_MS: "10000",
    TICKETING_PAYMENT_TIMEOUT_MS: "5000",
    TICKETING_MAIL_FROM: s.mailFrom,
  };
  if (s.smtpUrl) data.TICKETING_SMTP_URL = s.smtpUrl;
  if (s.staticDir) data.TICKETING_STATIC_DIR = s.staticDir;
  if (p === "a") {
    data.TICKETING_AMQP_RETRY_DELAY_MS = "5000";
    data.TICKETING_AMQP_HANDLERS = "8";
  }
  return new ConfigMap({ metadata: meta(s, CONFIG_NAME), data });
}

function tunnelConfigMap(s: Settings, p: Pattern): ConfigMap {
  const data: Record<string, string> = { "redis.conf": tunnelConfig(s, false) };
  if (p === "a") data["redis-amqp.conf"] = tunnelConfig(s, true);
  return new ConfigMap({ metadata: meta(s, TUNNEL), data });
}

function serviceAccount(s: Settings, name: string, annotations?: Record<string, string>): ServiceAccount {
  return new ServiceAccount({
    metadata: { ...meta(s, name), ...(annotations ? { annotations } : {}) },
    automountServiceAccountToken: false,
  });
}

function secretStore(s: Settings): SecretStore {
  return new SecretStore({
    metadata: meta(s, STORE),
    spec: {
      provider: {
        aws: {
          service: "SecretsManager",
          region: s.aws.region,
          auth: { jwt: { serviceAccountRef: { name: SECRETS_SA } } },
        },
      },
    },
  });
}

function externalSecrets(s: Settings, p: Pattern): ExternalSecret[] {
  const keys = secretKeys(p).filter((k) => !tunnelled(s, k.env));
  const out = [
    new ExternalSecret({
      metadata: meta(s, SECRET_NAME),
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "SecretStore", name: STORE },
        target: { name: SECRET_NAME, creationPolicy: "Owner", deletionPolicy: "Retain" },
        data: keys.map((k) => ({
          secretKey: k.env,
          remoteRef: { key: s.aws.secretNames[k.secret], property: k.property },
        })),
      },
    }),
  ];
  if (s.tlsTunnel.enabled) {
    // The service's Redis and AMQP URLs with the tunnel's loopback end in place of the managed
    // endpoint (External Secrets' template engine v2, Go templates with Sprig's functions); the
    // password and the rest of the URL are kept.
    const tk = secretKeys(p).filter((k) => tunnelled(s, k.env));
    out.push(
      new ExternalSecret({
        metadata: meta(s, TUNNEL_SECRET),
        spec: {
          refreshInterval: "1h",
          secretStoreRef: { kind: "SecretStore", name: STORE },
          target: {
            name: TUNNEL_SECRET,
            creationPolicy: "Owner",
            deletionPolicy: "Retain",
            template: {
              engineVersion: "v2",
              data: Object.fromEntries(tk.map((k) => [k.env, loopbackTemplate(k.env)])),
            },
          },
          data: tk.map((k) => ({
            secretKey: remoteKeyName(k.env),
            remoteRef: { key: s.aws.secretNames[k.secret], property: k.property },
          })),
        },
      }),
    );
  }
  if (p === "a") {
    // KEDA reads the broker's queue length with the same URL as the workers, from a Secret of
    // its own so its operator is given nothing else.
    out.push(
      new ExternalSecret({
        metadata: meta(s, KEDA_AMQP_SECRET),
        spec: {
          refreshInterval: "1h",
          secretStoreRef: { kind: "SecretStore", name: STORE },
          target: { name: KEDA_AMQP_SECRET, creationPolicy: "Owner", deletionPolicy: "Retain" },
          data: [{ secretKey: "host", remoteRef: { key: s.aws.secretNames.rabbitmq, property: "url" } }],
        },
      }),
    );
  }
  return out;
}

// The template variable holding the URL as Secrets Manager has it: TICKETING_REDIS_URL -> redis_url.
function remoteKeyName(env: string): string {
  return env.replace(/^TICKETING_/, "").toLowerCase();
}

// scheme://[userinfo@]host:port[/path] -> plain scheme://[userinfo@]127.0.0.1:tunnel-port[/path].
export function loopbackTemplate(env: string): string {
  const t = TUNNELLED[env];
  return `{{ regexReplaceAll "^[a-z0-9+.-]+://([^@/]*@)?[^/?#]+" .${remoteKeyName(env)} "${t.scheme}://\${1}${LOOPBACK}:${t.port}" }}`;
}

function httpService(s: Settings, c: Component): Service {
  return new Service({
    metadata: meta(s, c.name, labels(c)),
    spec: {
      type: "ClusterIP",
      selector: labels(c),
      ports: [{ name: "http", port: svc.HTTP_PORT, targetPort: "http", protocol: "TCP" }],
    },
  });
}

function ingress(s: Settings, front: Component): Ingress {
  return new Ingress({
    metadata: {
      ...meta(s, front.name),
      annotations: {
        // AWS Load Balancer Controller: pods are the targets, checked on their /readyz.
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/healthcheck-path": svc.READY_PATH,
        "alb.ingress.kubernetes.io/healthcheck-port": "traffic-port",
        "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "5",
        "alb.ingress.kubernetes.io/healthy-threshold-count": "2",
        "alb.ingress.kubernetes.io/unhealthy-threshold-count": "2",
        "alb.ingress.kubernetes.io/target-group-attributes": `deregistration_delay.timeout_seconds=${Math.ceil(
          (front.drainDelayMs + front.drainTimeoutMs) / 1000,
        )}`,
        ...(s.ingress.certificateArn
          ? {
              "alb.ingress.kubernetes.io/certificate-arn": s.ingress.certificateArn,
              "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
              "alb.ingress.kubernetes.io/ssl-redirect": "443",
            }
          : { "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}]' }),
      },
    },
    spec: {
      ingressClassName: s.ingress.className,
      rules: [
        {
          ...(s.ingress.host ? { host: s.ingress.host } : {}),
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: front.name, port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    },
  });
}

// deploy/cdk's target group: the AWS Load Balancer Controller registers the Service's pods in it
// by IP (its health check, /readyz on the traffic port, and deregistration delay are the CDK's).
function targetGroupBinding(s: Settings, front: Component): TargetGroupBinding {
  return new TargetGroupBinding({
    metadata: meta(s, front.name, labels(front)),
    spec: {
      serviceRef: { name: front.name, port: svc.HTTP_PORT },
      targetGroupARN: s.targetGroupBinding.targetGroupArn,
      targetType: "ip",
    },
  });
}

function pdb(s: Settings, c: Component): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: meta(s, c.name, labels(c)),
    spec: { maxUnavailable: 1, selector: { matchLabels: labels(c) } },
  });
}

const FAST_UP_SLOW_DOWN = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Percent", value: 100, periodSeconds: 15 },
      { type: "Pods", value: 4, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: "Max",
    policies: [{ type: "Percent", value: 20, periodSeconds: 60 }],
  },
};

function cpuHpa(s: Settings, c: Component, sc: { min: number; max: number; cpuPercent: number }) {
  return new HorizontalPodAutoscaler({
    metadata: meta(s, c.name, labels(c)),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: c.name },
      minReplicas: sc.min,
      maxReplicas: sc.max,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: sc.cpuPercent } } },
      ],
      behavior: FAST_UP_SLOW_DOWN,
    },
  });
}

// The waiting room's length: every process reports each performance's queue, so the maximum
// per performance counts each person once; the sum is everyone waiting for any sale.
export function waitingQuery(s: Settings): string {
  return `sum(max by (performance) (${svc.WAITING_METRIC}{namespace="${s.namespace}"}))`;
}

function gatewayScaledObject(s: Settings): ScaledObject {
  const g = s.scaling.gateway;
  return new ScaledObject({
    metadata: meta(s, "gateway", { "app.kubernetes.io/component": "gateway" }),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "gateway" },
      minReplicaCount: g.min,
      maxReplicaCount: g.max,
      pollingInterval: 10,
      cooldownPeriod: 300,
      advanced: { horizontalPodAutoscalerConfig: { name: "gateway", behavior: FAST_UP_SLOW_DOWN } },
      triggers: [
        {
          // Waiting buyers poll their gateway every few seconds (Retry-After): the gateways grow
          // with the waiting room before the crowd's polls load them.
          type: "prometheus",
          name: "waiting-room",
          metricType: "AverageValue",
          metadata: {
            serverAddress: s.prometheusUrl,
            query: waitingQuery(s),
            threshold: String(g.waitingPerReplica),
            ignoreNullValues: "true",
          },
        },
        { type: "cpu", name: "cpu", metricType: "Utilization", metadata: { value: String(g.cpuPercent) } },
      ],
    },
  });
}

function workerScaledObject(s: Settings): ScaledObject {
  const w = s.scaling.worker;
  return new ScaledObject({
    metadata: meta(s, "worker", { "app.kubernetes.io/component": "worker" }),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "worker" },
      // Never to zero: the workers also run the admission ticker, the reconciler and the relay.
      minReplicaCount: w.min,
      maxReplicaCount: w.max,
      pollingInterval: 10,
      cooldownPeriod: 300,
      advanced: { horizontalPodAutoscalerConfig: { name: "worker", behavior: FAST_UP_SLOW_DOWN } },
      triggers: [
        {
          type: "rabbitmq",
          name: "worker-queue",
          metadata: {
            protocol: "amqp",
            queueName: svc.WORKER_QUEUE,
            mode: "QueueLength",
            value: String(w.messagesPerReplica),
          },
          authenticationRef: { kind: "TriggerAuthentication", name: KEDA_AMQP_SECRET },
        },
      ],
    },
  });
}

function rabbitmqAuth(s: Settings): TriggerAuthentication {
  return new TriggerAuthentication({
    metadata: meta(s, KEDA_AMQP_SECRET),
    spec: { secretTargetRef: [{ parameter: "host", name: KEDA_AMQP_SECRET, key: "host" }] },
  });
}

// ---- NetworkPolicies: deny everything, then each flow the design needs.

const ALL_APP: ILabelSelector = { matchLabels: { "app.kubernetes.io/name": APP } };

function selectorFor(roles: svc.Role[], comps: Component[]): ILabelSelector {
  const names = comps.filter((c) => roles.includes(c.role)).map((c) => c.name);
  if (names.length === comps.length) return ALL_APP;
  if (names.length === 1) return { matchLabels: { "app.kubernetes.io/name": APP, "app.kubernetes.io/component": names[0] } };
  return {
    matchLabels: { "app.kubernetes.io/name": APP },
    matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: names }],
  };
}

function tcp(...ports: Array<number | string>): INetworkPolicyPort[] {
  return ports.map((port) => ({ protocol: "TCP", port }));
}

function cidrs(list: string[]): INetworkPolicyPeer[] {
  return list.map((cidr) => ({ ipBlock: { cidr } }));
}

function networkPolicies(s: Settings, p: Pattern, comps: Component[]): NetworkPolicy[] {
  const np = (name: string, spec: NetworkPolicy["spec"]) => new NetworkPolicy({ metadata: meta(s, name), spec });
  const front = comps.find((c) => c.front)!;
  const out: NetworkPolicy[] = [
    np("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    np("allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: svc.DNS_PORT },
            { protocol: "TCP", port: svc.DNS_PORT },
          ],
        },
      ],
    }),
    np(`${front.name}-from-load-balancer`, {
      podSelector: selectorFor([front.role], comps),
      policyTypes: ["Ingress"],
      ingress: [{ from: cidrs(s.network.loadBalancerCidrs), ports: tcp("http") }],
    }),
  ];
  if (p === "a") {
    out.push(
      np("api-from-gateway", {
        podSelector: selectorFor(["api"], comps),
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: selectorFor(["gateway"], comps) }], ports: tcp("http") }],
      }),
      np("gateway-to-api", {
        podSelector: selectorFor(["gateway"], comps),
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: selectorFor(["api"], comps) }], ports: tcp(svc.HTTP_PORT) }],
      }),
    );
  }
  out.push(
    np("to-redis", {
      podSelector: selectorFor(svc.USES.redis, comps),
      policyTypes: ["Egress"],
      egress: [{ to: cidrs(s.network.redisCidrs), ports: tcp(svc.REDIS_PORT) }],
    }),
    np("to-postgres", {
      podSelector: selectorFor(svc.USES.postgres, comps),
      policyTypes: ["Egress"],
      egress: [{ to: cidrs(s.network.postgresCidrs), ports: tcp(svc.POSTGRES_PORT) }],
    }),
  );
  if (p === "a") {
    // Through the tunnel only AMQPS leaves the pod; without it the client's plain AMQP, and AMQPS
    // for when it speaks TLS itself.
    out.push(
      np("to-rabbitmq", {
        podSelector: selectorFor(svc.USES.rabbitmq, comps),
        policyTypes: ["Egress"],
        egress: [{ to: cidrs(s.network.rabbitmqCidrs), ports: tcp(...(s.tlsTunnel.enabled ? [svc.AMQPS_PORT] : svc.AMQP_PORTS)) }],
      }),
    );
  }
  out.push(
    np("to-smtp", {
      podSelector: selectorFor(svc.USES.smtp, comps),
      policyTypes: ["Egress"],
      egress: [{ to: cidrs(s.network.smtpCidrs), ports: tcp(s.network.smtpPort) }],
    }),
    np("ops-from-prometheus", {
      podSelector: ALL_APP,
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": s.network.prometheusNamespace } },
              podSelector: { matchLabels: { ...s.network.prometheusPodLabels } },
            },
          ],
          ports: tcp("ops"),
        },
      ],
    }),
  );
  if (s.network.cloudwatchAgentNamespace) {
    out.push(
      np("ops-from-cloudwatch-agent", {
        podSelector: ALL_APP,
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": s.network.cloudwatchAgentNamespace } },
                podSelector: { matchLabels: { ...s.network.cloudwatchAgentPodLabels } },
              },
            ],
            ports: tcp("ops"),
          },
        ],
      }),
    );
  }
  return out;
}

// ---- The charts of one pattern.

export function buildPattern(app: App, s: Settings, p: Pattern): void {
  const comps = components(p);

  const base = new Chart(app, "1-base");
  emit(
    base,
    new Namespace({
      metadata: {
        name: s.namespace,
        labels: {
          "app.kubernetes.io/part-of": APP,
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    }),
  );
  emit(base, serviceAccount(s, SECRETS_SA, { "eks.amazonaws.com/role-arn": s.aws.secretsRoleArn }));
  emit(base, secretStore(s));
  for (const e of externalSecrets(s, p)) emit(base, e);
  emit(base, configMap(s, p));
  if (s.tlsTunnel.enabled) emit(base, tunnelConfigMap(s, p));

  const work = new Chart(app, "2-workloads");
  for (const c of comps) {
    emit(work, serviceAccount(s, c.name));
    // The api Service first: the gateways' pods take its address from the service links.
    if (c.public) emit(work, httpService(s, c));
  }
  for (const c of comps) {
    emit(work, deployment(s, c, p));
    emit(work, pdb(s, c));
  }
  const front = comps.find((c) => c.front)!;
  if (s.targetGroupBinding.enabled) emit(work, targetGroupBinding(s, front));
  if (s.ingress.enabled) emit(work, ingress(s, front));

  const scale = new Chart(app, "3-autoscaling");
  if (p === "a") {
    emit(scale, cpuHpa(s, comps.find((c) => c.role === "api")!, s.scaling.api));
    emit(scale, gatewayScaledObject(s));
    emit(scale, rabbitmqAuth(s));
    emit(scale, workerScaledObject(s));
  } else {
    emit(scale, cpuHpa(s, comps[0], s.scaling.all));
  }

  const net = new Chart(app, "4-network");
  for (const n of networkPolicies(s, p, comps)) emit(net, n);
}

export function synth(outdir: string, s: Settings): void {
  check(s);
  for (const p of ["a", "b"] as Pattern[]) {
    const app = new App({ outdir: `${outdir}/pattern-${p}`, yamlOutputType: YamlOutputType.FILE_PER_CHART });
    buildPattern(app, s, p);
    app.synth();
  }
}
