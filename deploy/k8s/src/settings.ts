// What differs between clusters: image, namespace, AWS account details, network ranges, sizes.
// Defaults are placeholders that synthesise and validate; a real cluster overrides them with a
// JSON file (synth.sh OUT SETTINGS.json) and a few environment variables (README.md).
import { readFileSync } from "node:fs";

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface Scaling {
  min: number;
  max: number;
}

export interface Settings {
  namespace: string;
  image: {
    registry: string; // "" for none: the image is then "ticketing:TAG"
    repository: string;
    tag: string;
    pullPolicy: "Always" | "IfNotPresent" | "Never";
  };
  aws: {
    region: string;
    // IAM role the External Secrets operator assumes (IRSA) to read the secrets below.
    secretsRoleArn: string;
    // Secrets Manager names (JSON secrets; their properties are listed in README.md).
    secretNames: { app: string; postgres: string; redis: string; rabbitmq: string; smtp: string };
  };
  network: {
    // Where the ALB's (or another load balancer's) nodes are: they reach the public listener.
    loadBalancerCidrs: string[];
    // Trusted for X-Forwarded-For: the load balancer's range for the first hop (gateway or
    // pattern B process) and, for the API processes, the gateways' pod range.
    frontTrustedProxies: string;
    apiTrustedProxies: string;
    redisCidrs: string[];
    postgresCidrs: string[];
    rabbitmqCidrs: string[];
    smtpCidrs: string[];
    smtpPort: number;
    // Where Prometheus runs (its namespace and pod labels): it scrapes the operations listener.
    prometheusNamespace: string;
    prometheusPodLabels: Record<string, string>;
    // The CloudWatch agent in Prometheus mode scrapes it too ("" namespace: no such agent).
    cloudwatchAgentNamespace: string;
    cloudwatchAgentPodLabels: Record<string, string>;
  };
  prometheusUrl: string; // KEDA's prometheus trigger asks this server
  smtpUrl: string; // non-secret: host and port only
  mailFrom: string;
  staticDir: string; // the image's folder of the built web front-end ("" to serve none)
  // An ALB of the AWS Load Balancer Controller's own, made from an Ingress; with a certificate it
  // listens on HTTPS 443 and redirects HTTP to it. Off when the ALB exists already (deploy/cdk).
  ingress: { enabled: boolean; className: string; host: string; certificateArn: string };
  // The front Service's pods registered in an existing target group (IP targets) by the AWS Load
  // Balancer Controller: deploy/cdk's ALB, its output TargetGroupArn.
  targetGroupBinding: { enabled: boolean; targetGroupArn: string };
  // A TLS tunnel (stunnel) beside each process: the service speaks plain Redis and AMQP to
  // 127.0.0.1, the tunnel speaks TLS to ElastiCache and Amazon MQ (README.md, "TLS tunnel").
  tlsTunnel: {
    enabled: boolean;
    image: string;
    pullPolicy: "Always" | "IfNotPresent" | "Never";
    redisHost: string; // ElastiCache primary endpoint (deploy/cdk output RedisEndpoint)
    redisPort: number; // its TLS port
    rabbitmqHost: string; // Amazon MQ endpoint's host (output BrokerAmqpsEndpoint)
    rabbitmqPort: number; // AMQPS
    resources: Resources;
  };
  resources: { gateway: Resources; api: Resources; worker: Resources; all: Resources };
  threads: { gateway: number; api: number; worker: number; all: number };
  scaling: {
    gateway: Scaling & { waitingPerReplica: number; cpuPercent: number };
    api: Scaling & { cpuPercent: number };
    worker: Scaling & { messagesPerReplica: number };
    all: Scaling & { cpuPercent: number };
  };
}

export function defaults(): Settings {
  return {
    namespace: "ticketing",
    image: { registry: "", repository: "ticketing", tag: "latest", pullPolicy: "IfNotPresent" },
    aws: {
      region: "ap-northeast-2",
      secretsRoleArn: "arn:aws:iam::111122223333:role/ticketing-external-secrets",
      secretNames: {
        app: "ticketing/app",
        postgres: "ticketing/postgres",
        redis: "ticketing/redis",
        rabbitmq: "ticketing/rabbitmq",
        smtp: "ticketing/smtp",
      },
    },
    network: {
      loadBalancerCidrs: ["10.0.0.0/20", "10.0.16.0/20"],
      frontTrustedProxies: "10.0.0.0/16",
      apiTrustedProxies: "10.0.0.0/16",
      redisCidrs: ["10.0.128.0/20", "10.0.144.0/20"],
      postgresCidrs: ["10.0.128.0/20", "10.0.144.0/20"],
      rabbitmqCidrs: ["10.0.128.0/20", "10.0.144.0/20"],
      smtpCidrs: ["0.0.0.0/0"],
      smtpPort: 587,
      prometheusNamespace: "monitoring",
      prometheusPodLabels: { "app.kubernetes.io/name": "prometheus" },
      cloudwatchAgentNamespace: "amazon-cloudwatch",
      cloudwatchAgentPodLabels: { app: "cwagent-prometheus" },
    },
    prometheusUrl: "http://prometheus-operated.monitoring.svc:9090",
    smtpUrl: "smtp://email-smtp.ap-northeast-2.amazonaws.com:587",
    mailFrom: "tickets@ticketing.example",
    staticDir: "",
    ingress: { enabled: false, className: "alb", host: "", certificateArn: "" },
    targetGroupBinding: {
      enabled: true,
      targetGroupArn: "arn:aws:elasticloadbalancing:ap-northeast-2:111122223333:targetgroup/ticketing-app/0123456789abcdef",
    },
    tlsTunnel: {
      enabled: true,
      // An image with Debian's stunnel4 and ca-certificates (stunnel/Dockerfile); not the
      // ticketing image. The placeholder does not pull: set it.
      image: "REGISTRY/stunnel:5",
      pullPolicy: "IfNotPresent",
      redisHost: "master.ticketing.abcdef.apn2.cache.amazonaws.com",
      redisPort: 6379,
      rabbitmqHost: "b-00000000-0000-0000-0000-000000000000.mq.ap-northeast-2.amazonaws.com",
      rabbitmqPort: 5671,
      resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } },
    },
    resources: {
      gateway: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
      api: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
      worker: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
      all: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
    },
    // The event loops per process: std::thread::hardware_concurrency() sees the node's cores,
    // not the container's CPU limit, so each role is told its share.
    threads: { gateway: 1, api: 2, worker: 1, all: 2 },
    scaling: {
      gateway: { min: 2, max: 20, waitingPerReplica: 20000, cpuPercent: 70 },
      api: { min: 2, max: 30, cpuPercent: 70 },
      worker: { min: 2, max: 10, messagesPerReplica: 100 },
      all: { min: 2, max: 30, cpuPercent: 70 },
    },
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function merge<T>(base: T, over: Json, path: string): T {
  if (over === null || typeof over !== "object" || Array.isArray(over)) {
    if (typeof base !== typeof over || Array.isArray(base) !== Array.isArray(over)) {
      throw new Error(`settings: ${path} should be ${Array.isArray(base) ? "an array" : typeof base}`);
    }
    return over as unknown as T;
  }
  if (base === null || typeof base !== "object" || Array.isArray(base)) {
    throw new Error(`settings: ${path} is not an object`);
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (!(k in out)) {
      // Maps of labels take new keys; anything else is a misspelt setting.
      if (path.endsWith("Labels")) {
        out[k] = v;
        continue;
      }
      throw new Error(`settings: unknown setting ${path}.${k}`);
    }
    out[k] = merge(out[k], v, `${path}.${k}`);
  }
  return out as T;
}

// Defaults, then the JSON file (if any), then the image's registry and tag from the environment
// (K8S_IMAGE_REGISTRY, K8S_IMAGE_TAG), which a release pipeline sets.
export function load(file?: string, env: NodeJS.ProcessEnv = process.env): Settings {
  let s = defaults();
  if (file) s = merge(s, JSON.parse(readFileSync(file, "utf8")) as Json, "settings");
  if (env.K8S_IMAGE_REGISTRY !== undefined) s.image.registry = env.K8S_IMAGE_REGISTRY;
  if (env.K8S_IMAGE_TAG) s.image.tag = env.K8S_IMAGE_TAG;
  if (env.K8S_NAMESPACE) s.namespace = env.K8S_NAMESPACE;
  check(s);
  return s;
}

// Combinations no cluster wants, refused before anything is written.
export function check(s: Settings): void {
  if (s.ingress.enabled && s.targetGroupBinding.enabled) {
    throw new Error("settings: ingress.enabled and targetGroupBinding.enabled are both true: one way to the load balancer");
  }
  if (!s.ingress.enabled && !s.targetGroupBinding.enabled) {
    throw new Error("settings: neither ingress.enabled nor targetGroupBinding.enabled: nothing would reach the front");
  }
  if (s.targetGroupBinding.enabled && !/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[^/]+\/[0-9a-f]+$/.test(s.targetGroupBinding.targetGroupArn)) {
    throw new Error(`settings: targetGroupBinding.targetGroupArn is not a target group ARN: ${s.targetGroupBinding.targetGroupArn}`);
  }
  if (s.tlsTunnel.enabled && (!s.tlsTunnel.image || !s.tlsTunnel.redisHost || !s.tlsTunnel.rabbitmqHost)) {
    throw new Error("settings: tlsTunnel.enabled needs tlsTunnel.image, redisHost and rabbitmqHost");
  }
}

export function imageRef(s: Settings): string {
  const reg = s.image.registry.replace(/\/+$/, "");
  return `${reg ? reg + "/" : ""}${s.image.repository}:${s.image.tag}`;
}
