// Properties of both layouts, each checked on the real output and on a copy broken on purpose.
import { test } from "node:test";
import assert from "node:assert/strict";
import { clone, Doc, ofKind, synthDocs } from "./lib/docs";
import * as c from "./lib/checks";
import { defaults, imageRef } from "../src/settings";
import * as svc from "../src/service";
import { waitingQuery } from "../src/charts";

const settings = defaults();
const { docs } = synthDocs(settings);

function broken(mutate: (docs: Doc[]) => void): Doc[] {
  const copy = docs.map((d) => ({ ...d, obj: clone(d.obj) }));
  mutate(copy);
  return copy;
}

function find(ds: Doc[], kind: string, name: string, p: "a" | "b" = "a"): Doc {
  const d = ds.find((x) => x.pattern === p && x.obj.kind === kind && x.obj.metadata.name === name);
  assert.ok(d, `${kind}/${name} in pattern ${p}`);
  return d;
}

const container = (ds: Doc[], name: string, p: "a" | "b" = "a") =>
  find(ds, "Deployment", name, p).obj.spec.template.spec.containers[0];
const sidecar = (ds: Doc[], name: string, p: "a" | "b" = "a") =>
  find(ds, "Deployment", name, p).obj.spec.template.spec.initContainers[0];

// ---- the processes of each layout

test("pattern A runs gateway, api and worker roles; pattern B only role all", () => {
  const roles = (p: "a" | "b") =>
    ofKind(docs, "Deployment", p).map((d) => [d.obj.metadata.name, d.obj.spec.template.spec.containers[0].env.find((e: any) => e.name === "TICKETING_ROLE")?.value]);
  assert.deepEqual(roles("a"), [["gateway", "gateway"], ["api", "api"], ["worker", "worker"]]);
  assert.deepEqual(roles("b"), [["ticketing", "all"]]);
});

test("only the workers get the broker's URL; pattern B has no broker", () => {
  for (const d of ofKind(docs, "Deployment")) {
    const env = d.obj.spec.template.spec.containers[0].env.map((e: any) => e.name);
    assert.equal(env.includes("TICKETING_AMQP_URL"), d.obj.metadata.name === "worker", d.obj.metadata.name);
  }
});

test("the worker has no public listener, the others do", () => {
  for (const d of ofKind(docs, "Deployment")) {
    const names = d.obj.spec.template.spec.containers[0].ports.map((p: any) => p.name);
    assert.deepEqual(names, d.obj.metadata.name === "worker" ? ["ops"] : ["http", "ops"]);
  }
});

test("the gateways reach the api Service by the address Kubernetes gives them", () => {
  const g = find(docs, "Deployment", "gateway");
  const env = container(docs, "gateway").env;
  assert.equal(env.find((e: any) => e.name === "TICKETING_GATEWAY_UPSTREAMS").value, "$(API_SERVICE_HOST):$(API_SERVICE_PORT_HTTP)");
  assert.equal(g.obj.spec.template.spec.enableServiceLinks, true);
  const api = find(docs, "Service", "api");
  assert.ok(api.obj.spec.ports.some((p: any) => p.name === "http"), "the api Service's port is named http");
  // Service links exist only for Services created before the pod: the Service comes first.
  assert.ok(api.index < g.index, "the api Service precedes the gateway Deployment");
  for (const d of ofKind(docs, "Deployment").filter((x) => x.obj.metadata.name !== "gateway")) {
    assert.equal(d.obj.spec.template.spec.enableServiceLinks, false, d.obj.metadata.name);
  }
});

test("threads are set per role (the binary would otherwise use the node's core count)", () => {
  for (const d of ofKind(docs, "Deployment")) {
    const env = d.obj.spec.template.spec.containers[0].env;
    assert.ok(Number(env.find((e: any) => e.name === "TICKETING_THREADS")?.value) >= 1, d.obj.metadata.name);
  }
});

// ---- properties with a broken copy each

test("every container runs as non-root, read-only, without privilege escalation, all capabilities dropped", () => {
  assert.deepEqual(c.containerSecurity(docs), []);
  const v = c.containerSecurity(broken((ds) => { delete container(ds, "api").securityContext; }));
  assert.ok(v.some((x) => x.includes("readOnlyRootFilesystem")) && v.some((x) => x.includes("drop ALL")), v.join("\n"));
  const v2 = c.containerSecurity(broken((ds) => { container(ds, "ticketing", "b").securityContext.runAsNonRoot = false; }));
  assert.ok(v2.some((x) => x.includes("runAsNonRoot")), v2.join("\n"));
});

test("the TLS sidecar is non-root, read-only, without privilege escalation, with requests and limits", () => {
  for (const d of ofKind(docs, "Deployment")) {
    assert.equal(d.obj.spec.template.spec.initContainers?.[0]?.name, "tls-tunnel", `${d.pattern} ${d.obj.metadata.name}`);
  }
  const v = c.containerSecurity(broken((ds) => { sidecar(ds, "worker").securityContext.runAsNonRoot = false; sidecar(ds, "worker").securityContext.readOnlyRootFilesystem = false; }));
  assert.ok(v.some((x) => x.includes("container tls-tunnel: runAsNonRoot")) && v.some((x) => x.includes("container tls-tunnel: readOnlyRootFilesystem")), v.join("\n"));
  const v2 = c.containerResources(broken((ds) => { delete sidecar(ds, "ticketing", "b").resources.limits; }));
  assert.ok(v2.length === 2 && v2.every((x) => x.includes("container tls-tunnel: no")), v2.join("\n"));
});

test("every container has CPU and memory requests and limits", () => {
  assert.deepEqual(c.containerResources(docs), []);
  const v = c.containerResources(broken((ds) => { delete container(ds, "worker").resources.limits; }));
  assert.equal(v.length, 2, v.join("\n"));
  const v2 = c.containerResources(broken((ds) => { container(ds, "gateway").resources.limits.memory = "1Mi"; }));
  assert.ok(v2.some((x) => x.includes("below request")), v2.join("\n"));
});

test("readiness on /readyz and liveness on /healthz, on the operations listener", () => {
  assert.deepEqual(c.probes(docs), []);
  const v = c.probes(broken((ds) => { container(ds, "api").readinessProbe.httpGet.port = "http"; }));
  assert.ok(v.some((x) => x.includes("readinessProbe on port http")), v.join("\n"));
  const v2 = c.probes(broken((ds) => { delete container(ds, "worker").livenessProbe; }));
  assert.ok(v2.some((x) => x.includes("no livenessProbe")), v2.join("\n"));
});

test("the grace period covers preStop, the drain delay and the drain timeout", () => {
  assert.deepEqual(c.gracefulShutdown(docs), []);
  const v = c.gracefulShutdown(broken((ds) => { find(ds, "Deployment", "gateway").obj.spec.template.spec.terminationGracePeriodSeconds = 10; }));
  assert.equal(v.length, 1, v.join("\n"));
});

test("pods spread across zones", () => {
  assert.deepEqual(c.zoneSpread(docs), []);
  const v = c.zoneSpread(broken((ds) => { find(ds, "Deployment", "api").obj.spec.template.spec.topologySpreadConstraints[0].labelSelector.matchLabels["app.kubernetes.io/component"] = "apii"; }));
  assert.equal(v.length, 1, v.join("\n"));
});

test("ServiceAccounts of their own, no token mounted", () => {
  assert.deepEqual(c.serviceAccounts(docs), []);
  const v = c.serviceAccounts(broken((ds) => { find(ds, "ServiceAccount", "worker").obj.automountServiceAccountToken = true; }));
  assert.equal(v.length, 1, v.join("\n"));
});

test("images come from the configured registry and tag", () => {
  assert.deepEqual(c.images(docs, "ticketing:latest"), []);
  const s = defaults();
  s.image.registry = "111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/";
  s.image.tag = "1.4.2";
  const other = synthDocs(s).docs;
  assert.equal(imageRef(s), "111122223333.dkr.ecr.ap-northeast-2.amazonaws.com/ticketing:1.4.2");
  assert.deepEqual(c.images(other, imageRef(s)), []);
});

test("configuration from the ConfigMap, secrets only through External Secrets (AWS Secrets Manager, IRSA)", () => {
  assert.deepEqual(c.configurationSources(docs), []);
  const v = c.configurationSources(broken((ds) => {
    container(ds, "api").env.find((e: any) => e.name === "TICKETING_ADMIN_TOKEN").valueFrom.secretKeyRef.key = "ADMIN";
  }));
  assert.equal(v.length, 1, v.join("\n"));
  const v2 = c.configurationSources(broken((ds) => { delete find(ds, "ServiceAccount", "external-secrets-reader").obj.metadata.annotations; }));
  assert.ok(v2.length > 0 && v2.every((x) => x.includes("no eks.amazonaws.com/role-arn")), v2.join("\n"));
});

test("every TICKETING_* name given to a process is a setting the service reads", () => {
  const known = c.knownSettings();
  assert.ok(known.has("TICKETING_OPS_PORT") && known.has("TICKETING_GATEWAY_UPSTREAMS"), "src/main/config.cpp is read");
  assert.deepEqual(c.settingNames(docs, known), []);
  const v = c.settingNames(broken((ds) => {
    const cm = find(ds, "ConfigMap", "ticketing-config").obj.data;
    cm.TICKETING_OPS_PROT = cm.TICKETING_OPS_PORT;
    container(ds, "gateway").env.push({ name: "TICKETING_GATEWAY_UPSTREAM", value: "10.0.0.1:8080" });
  }), known);
  assert.equal(v.length, 2, v.join("\n"));
});

test("every secret the service needs comes from Secrets Manager", () => {
  for (const p of ["a", "b"] as const) {
    // The shared Secret, and the Redis and AMQP URLs in their loopback form (TLS tunnel).
    const es = ofKind(docs, "ExternalSecret", p).find((d) => d.obj.metadata.name === "ticketing-secrets")!;
    const tunnel = ofKind(docs, "ExternalSecret", p).find((d) => d.obj.metadata.name === "ticketing-tunnel-urls")!;
    const keys = [...es.obj.spec.data.map((x: any) => x.secretKey), ...Object.keys(tunnel.obj.spec.target.template.data)].sort();
    const want = svc.SECRET_KEYS.filter((k) => p === "a" || k.secret !== "rabbitmq").map((k) => k.env).sort();
    assert.deepEqual(keys, want);
    for (const k of ["TICKETING_SECRET", "TICKETING_ADMIN_TOKEN", "TICKETING_TICKET_SIGNING_SEED", "TICKETING_PG_URL", "TICKETING_REDIS_URL", "TICKETING_SMTP_PASSWORD"]) {
      assert.ok(keys.includes(k), `${p}: ${k}`);
    }
  }
});

test("no Secret object and no secret value in any document", () => {
  assert.deepEqual(c.noSecretValues(docs), []);
  const pg = "postgresql://ticketing:s3cret@db:5432/ticketing";
  const v = c.noSecretValues(broken((ds) => {
    find(ds, "ConfigMap", "ticketing-config").obj.data.TICKETING_PG_URL = pg;
    ds.push({ ...ds[0], obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "x" }, stringData: { a: "b" } } });
    container(ds, "api").env.push({ name: "TICKETING_SECRET", value: "a".repeat(64) });
  }));
  assert.ok(v.some((x) => x.includes("a Secret in the manifests")), v.join("\n"));
  assert.ok(v.some((x) => x.includes("a URL with a password")), v.join("\n"));
  assert.ok(v.some((x) => x.includes("TICKETING_PG_URL in a ConfigMap")), v.join("\n"));
  assert.ok(v.some((x) => x.includes("TICKETING_SECRET has a literal value")), v.join("\n"));
});

test("the TargetGroupBinding registers the front Service's pods on its public port, which the ALB's subnets may reach", () => {
  const byPattern = ofKind(docs, "TargetGroupBinding").map((d) => [d.pattern, d.obj.spec.serviceRef.name, d.obj.spec.serviceRef.port, d.obj.spec.targetType]);
  assert.deepEqual(byPattern, [["a", "gateway", svc.HTTP_PORT, "ip"], ["b", "ticketing", svc.HTTP_PORT, "ip"]]);
  for (const d of ofKind(docs, "TargetGroupBinding")) assert.equal(d.obj.spec.targetGroupARN, settings.targetGroupBinding.targetGroupArn);
  assert.deepEqual(c.targetGroupBindings(docs, settings.network.loadBalancerCidrs), []);
  const v = c.targetGroupBindings(broken((ds) => { find(ds, "TargetGroupBinding", "gateway").obj.spec.serviceRef.port = 9090; }), settings.network.loadBalancerCidrs);
  assert.ok(v.some((x) => x.includes("port 9090 is not a port of Service gateway")), v.join("\n"));
  const v2 = c.targetGroupBindings(broken((ds) => { find(ds, "TargetGroupBinding", "ticketing", "b").obj.spec.serviceRef.name = "api"; }), settings.network.loadBalancerCidrs);
  assert.ok(v2.some((x) => x.includes("Service api missing")), v2.join("\n"));
  const v3 = c.targetGroupBindings(broken((ds) => { find(ds, "NetworkPolicy", "gateway-from-load-balancer").obj.spec.ingress[0].from.pop(); }), settings.network.loadBalancerCidrs);
  assert.ok(v3.some((x) => x.includes(`no NetworkPolicy admits ${settings.network.loadBalancerCidrs.at(-1)} to gateway on ${svc.HTTP_PORT}`)), v3.join("\n"));
  const v4 = c.targetGroupBindings(broken((ds) => { find(ds, "TargetGroupBinding", "gateway").obj.spec.targetType = "instance"; }), settings.network.loadBalancerCidrs);
  assert.equal(v4.length, 1, v4.join("\n"));
});

test("with the TLS tunnel on, the service's Redis and AMQP URLs point at the sidecar on loopback, which forwards them over TLS", () => {
  assert.deepEqual(c.tlsTunnel(docs, settings.tlsTunnel.image), []);
  // Every process goes through it to Redis; the workers to the broker as well.
  for (const d of ofKind(docs, "Deployment")) {
    const env = d.obj.spec.template.spec.containers[0].env;
    const refs = env.filter((e: any) => e.name in c.SAMPLE_URLS).map((e: any) => [e.name, e.valueFrom.secretKeyRef.name]);
    const want = [["TICKETING_REDIS_URL", "ticketing-tunnel-urls"]];
    if (d.obj.metadata.name === "worker") want.push(["TICKETING_AMQP_URL", "ticketing-tunnel-urls"]);
    assert.deepEqual(refs, want, d.obj.metadata.name);
    const ports = d.obj.spec.template.spec.initContainers[0].ports.map((p: any) => p.containerPort);
    assert.deepEqual(ports, d.obj.metadata.name === "worker" ? [svc.REDIS_PORT, svc.AMQP_PORT] : [svc.REDIS_PORT], d.obj.metadata.name);
  }
  // The sidecar's routes, as its configuration says.
  const conf = find(docs, "ConfigMap", "tls-tunnel").obj.data["redis-amqp.conf"];
  const routes = c.tunnelRoutes(conf);
  assert.deepEqual(routes.get(svc.REDIS_PORT), { host: settings.tlsTunnel.redisHost, port: 6379, tls: true });
  assert.deepEqual(routes.get(svc.AMQP_PORT), { host: settings.tlsTunnel.rabbitmqHost, port: 5671, tls: true });
  // A template that keeps the managed endpoint, a sidecar that is a plain init container, a
  // plain route and a URL read as Secrets Manager has it are each caught.
  const v = c.tlsTunnel(broken((ds) => {
    const es = find(ds, "ExternalSecret", "ticketing-tunnel-urls").obj;
    es.spec.target.template.data.TICKETING_REDIS_URL = '{{ regexReplaceAll "^rediss://" .redis_url "redis://" }}';
  }), settings.tlsTunnel.image);
  assert.ok(v.some((x) => x.includes("TICKETING_REDIS_URL goes to master.x.cache.amazonaws.com, not loopback")), v.join("\n"));
  const v2 = c.tlsTunnel(broken((ds) => { delete sidecar(ds, "api").restartPolicy; }), settings.tlsTunnel.image);
  assert.ok(v2.length === 1 && v2[0].includes("restartPolicy"), v2.join("\n"));
  const v3 = c.tlsTunnel(broken((ds) => {
    const cm = find(ds, "ConfigMap", "tls-tunnel").obj.data;
    cm["redis-amqp.conf"] = cm["redis-amqp.conf"].replace(/verifyChain = yes/g, "verifyChain = no");
  }), settings.tlsTunnel.image);
  assert.ok(v3.some((x) => x.includes("worker") && x.includes("not forwarded as a TLS client")), v3.join("\n"));
  const v4 = c.tlsTunnel(broken((ds) => { container(ds, "worker").env.find((e: any) => e.name === "TICKETING_AMQP_URL").valueFrom.secretKeyRef.name = "ticketing-secrets"; }), settings.tlsTunnel.image);
  assert.ok(v4.some((x) => x.includes("TICKETING_AMQP_URL is read as Secrets Manager has it")), v4.join("\n"));
  // The broker's URL never reaches the Secret the processes share, only its loopback form.
  const shared = find(docs, "ExternalSecret", "ticketing-secrets").obj.spec.data.map((x: any) => x.secretKey);
  assert.ok(!shared.includes("TICKETING_REDIS_URL") && !shared.includes("TICKETING_AMQP_URL"), shared.join(","));
  assert.equal(c.renderTemplate(find(docs, "ExternalSecret", "ticketing-tunnel-urls").obj.spec.target.template.data.TICKETING_REDIS_URL, { redis_url: "rediss://:t0k@m.cache.amazonaws.com:6379/2?x=1" }), "redis://:t0k@127.0.0.1:6379/2?x=1");
});

test("Services and the Ingress reach the right pods and ports", () => {
  assert.deepEqual(c.servicesSelectPods(docs), []);
  const v = c.servicesSelectPods(broken((ds) => { find(ds, "Service", "api").obj.spec.selector["app.kubernetes.io/component"] = "worker"; }));
  assert.ok(v.some((x) => x.includes("target port http")), v.join("\n"));
  // The Ingress, when a cluster turns it on (instead of the TargetGroupBinding).
  const s = defaults();
  s.ingress.enabled = true;
  s.targetGroupBinding.enabled = false;
  const withIngress = synthDocs(s).docs;
  assert.deepEqual(ofKind(withIngress, "Ingress").map((d) => d.obj.spec.rules[0].http.paths[0].backend.service.name), ["gateway", "ticketing"]);
  assert.deepEqual(c.servicesSelectPods(withIngress), []);
  const v2 = c.servicesSelectPods(withIngress.map((d) => {
    const o = clone(d.obj);
    if (o.kind === "Ingress") o.spec.rules[0].http.paths[0].backend.service.name = "front";
    return { ...d, obj: o };
  }));
  assert.equal(v2.length, 2, v2.join("\n"));
});

test("every Deployment has a PodDisruptionBudget whose selector matches it alone", () => {
  assert.deepEqual(c.disruptionBudgets(docs), []);
  const v = c.disruptionBudgets(broken((ds) => { delete find(ds, "PodDisruptionBudget", "api").obj.spec.selector.matchLabels["app.kubernetes.io/component"]; }));
  assert.ok(v.some((x) => x.includes("selects 3 Deployments")), v.join("\n"));
  const v2 = c.disruptionBudgets(broken((ds) => { find(ds, "PodDisruptionBudget", "worker").obj.spec.selector.matchLabels["app.kubernetes.io/component"] = "workers"; }));
  assert.ok(v2.some((x) => x.includes("no PodDisruptionBudget")), v2.join("\n"));
});

test("each Deployment has exactly one autoscaler whose target exists; CPU for the API processes", () => {
  assert.deepEqual(c.autoscalingTargets(docs), []);
  const hpaA = ofKind(docs, "HorizontalPodAutoscaler", "a").map((d) => d.obj.spec.scaleTargetRef.name);
  const hpaB = ofKind(docs, "HorizontalPodAutoscaler", "b").map((d) => d.obj.spec.scaleTargetRef.name);
  assert.deepEqual(hpaA, ["api"]);
  assert.deepEqual(hpaB, ["ticketing"]);
  for (const h of ofKind(docs, "HorizontalPodAutoscaler")) assert.equal(h.obj.apiVersion, "autoscaling/v2");
  const v = c.autoscalingTargets(broken((ds) => { find(ds, "HorizontalPodAutoscaler", "api").obj.spec.scaleTargetRef.name = "apis"; }));
  assert.ok(v.some((x) => x.includes("target Deployment/apis missing")), v.join("\n"));
  const v2 = c.autoscalingTargets(broken((ds) => { find(ds, "Deployment", "worker").obj.spec.replicas = 2; }));
  assert.equal(v2.length, 1, v2.join("\n"));
});

test("KEDA scales the workers on the service's queue and the gateways on its waiting-room metric", () => {
  const metrics = c.exportedMetrics();
  const queues = c.declaredWorkerQueues();
  assert.ok(metrics.has(svc.WAITING_METRIC), "src/ registers queue_waiting");
  assert.ok(queues.has(svc.WORKER_QUEUE), "src/messaging/bus.hpp declares ticketing.worker");
  assert.deepEqual(c.kedaTriggers(docs, metrics, queues), []);
  const byTarget = Object.fromEntries(ofKind(docs, "ScaledObject", "a").map((d) => [d.obj.spec.scaleTargetRef.name, d.obj.spec.triggers.map((t: any) => t.type)]));
  assert.deepEqual(byTarget, { gateway: ["prometheus", "cpu"], worker: ["rabbitmq"] });
  assert.deepEqual(c.promqlMetrics(waitingQuery(settings)), ["queue_waiting"]);
  const v = c.kedaTriggers(broken((ds) => {
    const so = find(ds, "ScaledObject", "worker").obj;
    so.spec.triggers[0].metadata.queueName = "ticketing.workers";
    const g = find(ds, "ScaledObject", "gateway").obj;
    g.spec.triggers[0].metadata.query = 'sum(waiting_room_length{namespace="ticketing"})';
  }), metrics, queues);
  assert.ok(v.some((x) => x.includes("queue ticketing.workers is not declared")), v.join("\n"));
  assert.ok(v.some((x) => x.includes("metric waiting_room_length is not exported")), v.join("\n"));
  const v2 = c.kedaTriggers(broken((ds) => { find(ds, "TriggerAuthentication", "rabbitmq-keda").obj.spec.secretTargetRef[0].key = "url"; }), metrics, queues);
  assert.equal(v2.length, 1, v2.join("\n"));
});

test("KEDA asks the Prometheus of kube-prometheus-stack (deploy/cdk installs it in namespace monitoring)", () => {
  assert.equal(defaults().prometheusUrl, "http://prometheus-operated.monitoring.svc:9090");
  const t = find(docs, "ScaledObject", "gateway").obj.spec.triggers.find((x: any) => x.type === "prometheus");
  assert.equal(t.metadata.serverAddress, "http://prometheus-operated.monitoring.svc:9090");
});

// ---- network policies: default deny, then exactly the design's flows

function expectedFlows(p: "a" | "b"): string[] {
  const n = settings.network;
  const out: string[] = [];
  const apps = p === "a" ? ["gateway", "api", "worker"] : ["ticketing"];
  const front = p === "a" ? "gateway" : "ticketing";
  const http = svc.HTTP_PORT;
  // DNS, for every pod
  out.push(`egress * to namespace {"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}} pods {"matchLabels":{"k8s-app":"kube-dns"}} udp/53`);
  out.push(`egress * to namespace {"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}} pods {"matchLabels":{"k8s-app":"kube-dns"}} tcp/53`);
  // load balancer -> the front, on the service port
  for (const cidr of n.loadBalancerCidrs) out.push(`ingress ${front} from cidr ${cidr} tcp/${http}`);
  // gateway -> api
  if (p === "a") {
    out.push(`ingress api from pods gateway tcp/${http}`);
    out.push(`egress gateway to pods api tcp/${http}`);
  }
  for (const a of apps) {
    for (const cidr of n.redisCidrs) out.push(`egress ${a} to cidr ${cidr} tcp/${svc.REDIS_PORT}`);
    for (const cidr of n.postgresCidrs) out.push(`egress ${a} to cidr ${cidr} tcp/${svc.POSTGRES_PORT}`);
    // Prometheus and the CloudWatch agent -> the operations port
    out.push(`ingress ${a} from namespace {"matchLabels":{"kubernetes.io/metadata.name":"${n.prometheusNamespace}"}} pods ${JSON.stringify({ matchLabels: n.prometheusPodLabels })} tcp/${svc.OPS_PORT}`);
    out.push(`ingress ${a} from namespace {"matchLabels":{"kubernetes.io/metadata.name":"amazon-cloudwatch"}} pods {"matchLabels":{"app":"cwagent-prometheus"}} tcp/${svc.OPS_PORT}`);
  }
  // the workers -> RabbitMQ: AMQPS only, from the TLS tunnel (the pod's rules apply to it)
  if (p === "a") for (const cidr of n.rabbitmqCidrs) out.push(`egress worker to cidr ${cidr} tcp/5671`);
  // the processes that send the receipt e-mails -> the SMTP relay
  for (const cidr of n.smtpCidrs) out.push(`egress ${p === "a" ? "worker" : "ticketing"} to cidr ${cidr} tcp/${n.smtpPort}`);
  return out.sort();
}

test("a default-deny NetworkPolicy in each layout's namespace", () => {
  for (const p of ["a", "b"] as const) {
    assert.deepEqual(c.flows(docs, p).defaultDeny, ["default-deny"], `pattern ${p}`);
    const nss = new Set(ofKind(docs, "NetworkPolicy", p).map((d) => d.obj.metadata.namespace));
    assert.deepEqual([...nss], [settings.namespace]);
  }
});

test("the allowed flows are exactly the design's, in both layouts", () => {
  for (const p of ["a", "b"] as const) {
    assert.deepEqual([...c.flows(docs, p).flows].sort(), expectedFlows(p), `pattern ${p}`);
  }
});

test("the CloudWatch agent may scrape the operations port of every process, and nothing else", () => {
  const agent = `from namespace {"matchLabels":{"kubernetes.io/metadata.name":"amazon-cloudwatch"}} pods {"matchLabels":{"app":"cwagent-prometheus"}}`;
  for (const p of ["a", "b"] as const) {
    const got = [...c.flows(docs, p).flows].filter((f) => f.includes(agent));
    const apps = ofKind(docs, "Deployment", p).map((d) => d.obj.metadata.name);
    assert.deepEqual(got.sort(), apps.map((a) => `ingress ${a} ${agent} tcp/${svc.OPS_PORT}`).sort(), `pattern ${p}`);
  }
  const lost = broken((ds) => { find(ds, "NetworkPolicy", "ops-from-cloudwatch-agent").obj.spec.ingress[0].from[0].podSelector.matchLabels.app = "cwagent"; });
  assert.ok(![...c.flows(lost, "a").flows].some((f) => f.includes(agent)));
  // Without the tunnel the broker's plain port is open again (the client's amqp://).
  const s = defaults();
  s.tlsTunnel.enabled = false;
  const plain = [...c.flows(synthDocs(s).docs, "a").flows].filter((f) => f.startsWith("egress worker to cidr " + s.network.rabbitmqCidrs[0]) && /tcp\/567\d$/.test(f));
  assert.deepEqual(plain.sort(), [`egress worker to cidr ${s.network.rabbitmqCidrs[0]} tcp/5671`, `egress worker to cidr ${s.network.rabbitmqCidrs[0]} tcp/5672`]);
});

test("an extra flow or a lost default deny is caught", () => {
  const wide = broken((ds) => {
    find(ds, "NetworkPolicy", "to-redis").obj.spec.egress[0].ports = undefined;
    find(ds, "NetworkPolicy", "api-from-gateway").obj.spec.ingress[0].from = undefined;
  });
  const got = [...c.flows(wide, "a").flows];
  assert.ok(got.some((f) => f.endsWith("any/any")), got.join("\n"));
  assert.ok(got.some((f) => f.includes("from anything")), got.join("\n"));
  const noDeny = broken((ds) => { find(ds, "NetworkPolicy", "default-deny", "b").obj.spec.policyTypes = ["Ingress"]; });
  assert.deepEqual(c.flows(noDeny, "b").defaultDeny, []);
});

test("namespaced objects live in the layout's namespace, which enforces the restricted Pod Security level", () => {
  for (const d of docs) {
    if (d.obj.kind === "Namespace") {
      assert.equal(d.obj.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
      assert.equal(d.index, 0, "the Namespace is applied first");
    } else {
      assert.equal(d.obj.metadata.namespace, settings.namespace, `${d.obj.kind}/${d.obj.metadata.name}`);
    }
  }
});
