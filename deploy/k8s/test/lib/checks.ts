// Properties every synthesised layout must have. Each check returns the violations it found
// (empty: the property holds), so the tests can also show that a check catches a broken copy.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Doc, describe, Obj, ofKind, REPO_DIR } from "./docs";
import * as svc from "../../src/service";

type P = "a" | "b";

// ---- helpers

function nsDocs(docs: Doc[], p: P): Doc[] {
  return docs.filter((d) => d.pattern === p);
}

function podSpecs(docs: Doc[]): Array<{ d: Doc; pod: Obj; labels: Record<string, string> }> {
  return ofKind(docs, "Deployment").map((d) => ({
    d,
    pod: d.obj.spec?.template?.spec ?? {},
    labels: d.obj.spec?.template?.metadata?.labels ?? {},
  }));
}

export function selects(sel: Obj | undefined, labels: Record<string, string>): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    const v = labels[e.key];
    if (e.operator === "In" && !(has && e.values.includes(v))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(v)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

function configMapData(docs: Doc[], p: P): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of ofKind(nsDocs(docs, p), "ConfigMap")) Object.assign(out, d.obj.data ?? {});
  return out;
}

function envOf(c: Obj): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const e of c.env ?? []) out[e.name] = e.value;
  return out;
}

function parseQuantity(q: string | number): number {
  const s = String(q);
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(s);
  if (!m) return NaN;
  const mult: Record<string, number> = {
    m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
  };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

// ---- workloads

export function containerSecurity(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const { d, pod } of podSpecs(docs)) {
    const podSc = pod.securityContext ?? {};
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) v.push(`${describe(d)}: host namespaces`);
    const all = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
    if (!all.length) v.push(`${describe(d)}: no container`);
    for (const c of all) {
      const sc = c.securityContext ?? {};
      const where = `${describe(d)} container ${c.name}`;
      const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
      if (nonRoot !== true) v.push(`${where}: runAsNonRoot is not true`);
      const uid = sc.runAsUser ?? podSc.runAsUser;
      if (uid === 0) v.push(`${where}: runs as uid 0`);
      if (sc.readOnlyRootFilesystem !== true) v.push(`${where}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) v.push(`${where}: allowPrivilegeEscalation is not false`);
      if (sc.privileged === true) v.push(`${where}: privileged`);
      const drop: string[] = sc.capabilities?.drop ?? [];
      if (!drop.includes("ALL")) v.push(`${where}: capabilities do not drop ALL`);
      if ((sc.capabilities?.add ?? []).length) v.push(`${where}: adds capabilities`);
    }
  }
  return v;
}

export function containerResources(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const { d, pod } of podSpecs(docs)) {
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      const where = `${describe(d)} container ${c.name}`;
      for (const r of ["cpu", "memory"]) {
        const req = c.resources?.requests?.[r];
        const lim = c.resources?.limits?.[r];
        if (req === undefined) v.push(`${where}: no ${r} request`);
        if (lim === undefined) v.push(`${where}: no ${r} limit`);
        if (req !== undefined && lim !== undefined && !(parseQuantity(lim) >= parseQuantity(req))) {
          v.push(`${where}: ${r} limit ${lim} below request ${req}`);
        }
      }
    }
  }
  return v;
}

function portNumber(c: Obj, port: string | number): number | undefined {
  if (typeof port === "number") return port;
  return (c.ports ?? []).find((x: Obj) => x.name === port)?.containerPort;
}

export function probes(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const p of ["a", "b"] as P[]) {
    const cm = configMapData(docs, p);
    const opsPort = Number(cm.TICKETING_OPS_PORT);
    if (!opsPort) v.push(`pattern ${p}: TICKETING_OPS_PORT is not in the ConfigMap`);
    if (!cm.TICKETING_OPS_HOST || cm.TICKETING_OPS_HOST.startsWith("127.")) {
      v.push(`pattern ${p}: the operations listener is on loopback: kubelet and Prometheus cannot reach it`);
    }
    for (const { d, pod } of podSpecs(nsDocs(docs, p))) {
      for (const c of pod.containers ?? []) {
        const where = `${describe(d)} container ${c.name}`;
        const check = (kind: string, path: string) => {
          const pr = c[kind];
          if (!pr?.httpGet) return v.push(`${where}: no ${kind} (httpGet)`);
          if (pr.httpGet.path !== path) v.push(`${where}: ${kind} on ${pr.httpGet.path}, not ${path}`);
          const n = portNumber(c, pr.httpGet.port);
          if (n !== opsPort) v.push(`${where}: ${kind} on port ${pr.httpGet.port} (${n}), not the operations port ${opsPort}`);
          return undefined;
        };
        check("readinessProbe", svc.READY_PATH);
        check("livenessProbe", svc.LIVE_PATH);
        const ops = (c.ports ?? []).find((x: Obj) => x.containerPort === opsPort);
        if (!ops) v.push(`${where}: the operations port ${opsPort} is not declared`);
      }
    }
  }
  return v;
}

function roleOf(c: Obj): string | undefined {
  return envOf(c).TICKETING_ROLE;
}

export function gracefulShutdown(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const { d, pod } of podSpecs(docs)) {
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    for (const c of pod.containers ?? []) {
      const env = envOf(c);
      const delay = Number(env.TICKETING_DRAIN_DELAY_MS ?? 1000);
      const timeout = Number(env.TICKETING_DRAIN_TIMEOUT_MS ?? 10000);
      const preStop = Number(c.lifecycle?.preStop?.sleep?.seconds ?? 0);
      // Kubernetes kills the container at the grace period, counted from the start of preStop.
      const needed = preStop * 1000 + delay + timeout + 5000;
      if (grace * 1000 < needed) {
        v.push(`${describe(d)}: terminationGracePeriodSeconds ${grace} < preStop ${preStop}s + drain ${delay}+${timeout} ms + 5 s`);
      }
      if (roleOf(c) !== "worker" && delay < 1000) v.push(`${describe(d)}: drain delay ${delay} ms leaves no time to leave the endpoints`);
    }
  }
  return v;
}

export function zoneSpread(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const { d, pod, labels } of podSpecs(docs)) {
    const z = (pod.topologySpreadConstraints ?? []).find((t: Obj) => t.topologyKey === "topology.kubernetes.io/zone");
    if (!z) v.push(`${describe(d)}: no spread across zones`);
    else if (!selects(z.labelSelector, labels)) v.push(`${describe(d)}: the zone spread does not select its own pods`);
  }
  return v;
}

export function serviceAccounts(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const sa of ofKind(docs, "ServiceAccount")) {
    if (sa.obj.automountServiceAccountToken !== false) v.push(`${describe(sa)}: token automounted`);
  }
  for (const { d, pod } of podSpecs(docs)) {
    const name = pod.serviceAccountName;
    if (!name) v.push(`${describe(d)}: runs as the default ServiceAccount`);
    else if (!ofKind(docs, "ServiceAccount", d.pattern).some((s) => s.obj.metadata.name === name)) {
      v.push(`${describe(d)}: ServiceAccount ${name} does not exist`);
    }
    if (pod.automountServiceAccountToken !== false) v.push(`${describe(d)}: token automounted in the pod`);
  }
  return v;
}

export function images(docs: Doc[], expected: string): string[] {
  const v: string[] = [];
  for (const { d, pod } of podSpecs(docs)) {
    for (const c of pod.containers ?? []) if (c.image !== expected) v.push(`${describe(d)}: image ${c.image}, not ${expected}`);
  }
  return v;
}

// ---- configuration and secrets

const SECRET_ENV = new Set(svc.SECRET_KEYS.map((k) => k.env));

export function configurationSources(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const p of ["a", "b"] as P[]) {
    const here = nsDocs(docs, p);
    const cms = new Set(ofKind(here, "ConfigMap").map((d) => d.obj.metadata.name));
    const secretKeys = new Map<string, Set<string>>();
    for (const es of ofKind(here, "ExternalSecret")) {
      const target = es.obj.spec?.target?.name ?? es.obj.metadata.name;
      // A templated Secret holds the template's keys; its data entries are template variables.
      const templated = Object.keys(es.obj.spec?.target?.template?.data ?? {});
      secretKeys.set(target, new Set(templated.length ? templated : (es.obj.spec?.data ?? []).map((x: Obj) => x.secretKey)));
      const store = es.obj.spec?.secretStoreRef;
      const stores = ofKind(here, store?.kind === "ClusterSecretStore" ? "ClusterSecretStore" : "SecretStore");
      const st = stores.find((s) => s.obj.metadata.name === store?.name);
      if (!st) v.push(`${describe(es)}: store ${store?.name} does not exist`);
      else {
        const aws = st.obj.spec?.provider?.aws;
        if (aws?.service !== "SecretsManager") v.push(`${describe(st)}: not AWS Secrets Manager`);
        const sa = aws?.auth?.jwt?.serviceAccountRef?.name;
        const acct = ofKind(here, "ServiceAccount").find((s) => s.obj.metadata.name === sa);
        if (!acct) v.push(`${describe(st)}: IRSA ServiceAccount ${sa} does not exist`);
        else if (!/^arn:aws:iam::\d{12}:role\/.+/.test(acct.obj.metadata.annotations?.["eks.amazonaws.com/role-arn"] ?? "")) {
          v.push(`${describe(acct)}: no eks.amazonaws.com/role-arn`);
        }
      }
      for (const x of es.obj.spec?.data ?? []) {
        if (!x.remoteRef?.key || !x.remoteRef?.property) v.push(`${describe(es)}: ${x.secretKey} has no Secrets Manager name and property`);
      }
    }
    for (const { d, pod } of podSpecs(here)) {
      for (const c of pod.containers ?? []) {
        for (const ef of c.envFrom ?? []) {
          if (ef.configMapRef && !cms.has(ef.configMapRef.name)) v.push(`${describe(d)}: ConfigMap ${ef.configMapRef.name} missing`);
          if (ef.secretRef) v.push(`${describe(d)}: a whole Secret as environment (name each key)`);
        }
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref && !secretKeys.get(ref.name)?.has(ref.key)) v.push(`${describe(d)}: ${e.name} reads ${ref.name}/${ref.key}, which External Secrets does not write`);
          if (SECRET_ENV.has(e.name) && !ref) v.push(`${describe(d)}: ${e.name} is not read from a Secret`);
          const cmRef = e.valueFrom?.configMapKeyRef;
          if (cmRef && !cms.has(cmRef.name)) v.push(`${describe(d)}: ConfigMap ${cmRef.name} missing`);
        }
      }
    }
  }
  return v;
}

// Anything that looks like a credential written into a manifest.
const SECRETISH = [
  { re: /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i, what: "a URL with a password" },
  { re: /\b[0-9a-f]{64}\b/i, what: "64 hex digits (a key)" },
  { re: /^[A-Za-z0-9_-]{43}$/, what: "43 base64url characters (a seed)" },
  { re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: "a private key" },
  { re: /\bAKIA[0-9A-Z]{16}\b/, what: "an AWS access key id" },
  { re: /password=|passwd=|pwd=/i, what: "a password parameter" },
];

export function noSecretValues(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const d of docs) {
    if (d.obj.kind === "Secret") v.push(`${describe(d)}: a Secret in the manifests`);
    const walk = (x: unknown, path: string) => {
      if (typeof x === "string") {
        for (const s of SECRETISH) if (s.re.test(x)) v.push(`${describe(d)} ${path}: ${s.what}`);
      } else if (Array.isArray(x)) x.forEach((y, i) => walk(y, `${path}[${i}]`));
      else if (x && typeof x === "object") for (const [k, y] of Object.entries(x)) walk(y, `${path}.${k}`);
    };
    walk(d.obj, "");
    if (d.obj.kind === "ConfigMap") {
      for (const k of Object.keys(d.obj.data ?? {})) {
        if (SECRET_ENV.has(k) || /PASSWORD|SECRET$|TOKEN|SEED/.test(k)) v.push(`${describe(d)}: ${k} in a ConfigMap`);
      }
    }
    if (d.obj.kind === "Deployment") {
      for (const c of d.obj.spec?.template?.spec?.containers ?? []) {
        for (const e of c.env ?? []) {
          if (e.value !== undefined && (SECRET_ENV.has(e.name) || /PASSWORD|_SECRET$|TOKEN|SEED$/.test(e.name))) {
            v.push(`${describe(d)}: ${e.name} has a literal value`);
          }
        }
      }
    }
  }
  return v;
}

// ---- services, disruption budgets, autoscaling

export function servicesSelectPods(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const s of ofKind(docs, "Service")) {
    const targets = podSpecs(nsDocs(docs, s.pattern)).filter((x) => selects({ matchLabels: s.obj.spec?.selector }, x.labels));
    if (targets.length !== 1) v.push(`${describe(s)}: selects ${targets.length} Deployments`);
    for (const port of s.obj.spec?.ports ?? []) {
      for (const t of targets) {
        const c = t.pod.containers?.[0] ?? {};
        if (portNumber(c, port.targetPort) === undefined) v.push(`${describe(s)}: target port ${port.targetPort} not in ${describe(t.d)}`);
      }
    }
  }
  for (const ing of ofKind(docs, "Ingress")) {
    for (const r of ing.obj.spec?.rules ?? []) {
      for (const path of r.http?.paths ?? []) {
        const b = path.backend?.service;
        const s = ofKind(docs, "Service", ing.pattern).find((x) => x.obj.metadata.name === b?.name);
        if (!s) v.push(`${describe(ing)}: backend Service ${b?.name} missing`);
        else if (!(s.obj.spec?.ports ?? []).some((p: Obj) => p.name === b.port?.name || p.port === b.port?.number)) {
          v.push(`${describe(ing)}: backend port not on Service ${b.name}`);
        }
      }
    }
  }
  return v;
}

// Each TargetGroupBinding registers, by IP, the pods of a Service of its layout on a port that
// Service has, and the load balancer's subnets may reach those pods on the target port.
export function targetGroupBindings(docs: Doc[], loadBalancerCidrs: string[]): string[] {
  const v: string[] = [];
  for (const b of ofKind(docs, "TargetGroupBinding")) {
    const spec = b.obj.spec ?? {};
    if (spec.targetType !== "ip") v.push(`${describe(b)}: targetType ${spec.targetType}, not ip (the target group's type)`);
    if (!/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[^/]+\/[0-9a-f]+$/.test(spec.targetGroupARN ?? "")) {
      v.push(`${describe(b)}: ${spec.targetGroupARN} is not a target group ARN`);
    }
    const ref = spec.serviceRef ?? {};
    const s = ofKind(docs, "Service", b.pattern).find((x) => x.obj.metadata.name === ref.name);
    if (!s) {
      v.push(`${describe(b)}: Service ${ref.name} missing`);
      continue;
    }
    const port = (s.obj.spec?.ports ?? []).find((x: Obj) => x.port === ref.port || (x.name && x.name === ref.port));
    if (!port) {
      v.push(`${describe(b)}: port ${ref.port} is not a port of Service ${ref.name}`);
      continue;
    }
    const targets = podSpecs(nsDocs(docs, b.pattern)).filter((x) => selects({ matchLabels: s.obj.spec?.selector }, x.labels));
    const fl = flows(docs, b.pattern).flows;
    for (const t of targets) {
      const n = portNumber(t.pod.containers?.[0] ?? {}, port.targetPort ?? port.port);
      for (const cidr of loadBalancerCidrs) {
        if (!fl.has(`ingress ${t.d.obj.metadata.name} from cidr ${cidr} tcp/${n}`)) {
          v.push(`${describe(b)}: no NetworkPolicy admits ${cidr} to ${t.d.obj.metadata.name} on ${n}`);
        }
      }
    }
  }
  return v;
}

export function disruptionBudgets(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const p of ["a", "b"] as P[]) {
    const deps = podSpecs(nsDocs(docs, p));
    const pdbs = ofKind(docs, "PodDisruptionBudget", p);
    for (const b of pdbs) {
      const hit = deps.filter((x) => selects(b.obj.spec?.selector, x.labels));
      if (hit.length !== 1) v.push(`${describe(b)}: selects ${hit.length} Deployments`);
      if (b.obj.spec?.minAvailable === undefined && b.obj.spec?.maxUnavailable === undefined) v.push(`${describe(b)}: no budget`);
    }
    for (const x of deps) {
      if (!pdbs.some((b) => selects(b.obj.spec?.selector, x.labels))) v.push(`${describe(x.d)}: no PodDisruptionBudget`);
      if (!selects(x.d.obj.spec?.selector, x.labels)) v.push(`${describe(x.d)}: its selector misses its own pods`);
    }
  }
  return v;
}

export function autoscalingTargets(docs: Doc[]): string[] {
  const v: string[] = [];
  for (const p of ["a", "b"] as P[]) {
    const deps = ofKind(docs, "Deployment", p);
    const scaled = new Map<string, string[]>();
    const add = (name: string, by: string) => scaled.set(name, [...(scaled.get(name) ?? []), by]);
    for (const h of ofKind(docs, "HorizontalPodAutoscaler", p)) {
      const t = h.obj.spec?.scaleTargetRef;
      if (t?.kind !== "Deployment" || !deps.some((d) => d.obj.metadata.name === t.name)) v.push(`${describe(h)}: target ${t?.kind}/${t?.name} missing`);
      else add(t.name, describe(h));
      if (!(h.obj.spec?.minReplicas >= 2)) v.push(`${describe(h)}: fewer than 2 replicas at least`);
      if (!(h.obj.spec?.metrics ?? []).some((m: Obj) => m.type === "Resource" && m.resource?.name === "cpu")) v.push(`${describe(h)}: not on CPU`);
    }
    for (const so of ofKind(docs, "ScaledObject", p)) {
      const t = so.obj.spec?.scaleTargetRef;
      if ((t?.kind ?? "Deployment") !== "Deployment" || !deps.some((d) => d.obj.metadata.name === t?.name)) v.push(`${describe(so)}: target ${t?.name} missing`);
      else add(t.name, describe(so));
      if (!((so.obj.spec?.minReplicaCount ?? 0) >= 1)) v.push(`${describe(so)}: may scale to zero`);
    }
    for (const d of deps) {
      const by = scaled.get(d.obj.metadata.name) ?? [];
      if (by.length !== 1) v.push(`${describe(d)}: scaled by ${by.length} autoscalers (${by.join(", ")})`);
      if (d.obj.spec?.replicas !== undefined) v.push(`${describe(d)}: sets replicas, which its autoscaler owns`);
    }
  }
  return v;
}

// ---- the TLS tunnel beside the service

// External Secrets' templates as the charts write them: {{ regexReplaceAll "RE" .var "REPL" }}
// (Go's ${1} is JavaScript's $1). Anything else is refused, so a changed template fails the test
// rather than being skipped.
export function renderTemplate(tpl: string, vars: Record<string, string>): string {
  const m = /^\{\{ regexReplaceAll "([^"]*)" \.([a-z_]+) "([^"]*)" \}\}$/.exec(tpl);
  if (!m) throw new Error(`template not understood: ${tpl}`);
  if (!(m[2] in vars)) throw new Error(`template variable ${m[2]} not given`);
  return vars[m[2]].replace(new RegExp(m[1]), m[3].replace(/\$\{(\d+)\}/g, "$$$1"));
}

// What the tunnel's configuration says: local port -> the endpoint it connects to with TLS.
export function tunnelRoutes(conf: string): Map<number, { host: string; port: number; tls: boolean }> {
  const out = new Map<number, { host: string; port: number; tls: boolean }>();
  for (const section of conf.split(/^\[/m).slice(1)) {
    const kv = Object.fromEntries(
      section.split("\n").map((l) => /^\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(l)).filter((x): x is RegExpExecArray => !!x).map((x) => [x[1], x[2]]),
    );
    const accept = Number(String(kv.accept ?? "").replace(/^.*:/, ""));
    const [host, port] = String(kv.connect ?? "").split(/:(?=\d+$)/);
    out.set(accept, { host, port: Number(port), tls: kv.client === "yes" && kv.verifyChain === "yes" && kv.checkHost === host });
  }
  return out;
}

// Sample URLs as Secrets Manager holds them (deploy/cdk's secrets): TLS schemes and the managed
// endpoints. The tunnel must turn them into plain URLs on loopback, password kept.
export const SAMPLE_URLS: Record<string, { remote: string; scheme: string; port: number; upstreamPort: number }> = {
  TICKETING_REDIS_URL: { remote: "rediss://:t0ken@master.x.cache.amazonaws.com:6379", scheme: "redis", port: svc.REDIS_PORT, upstreamPort: svc.REDIS_PORT },
  TICKETING_AMQP_URL: { remote: "amqps://user:pa55@b-1.mq.ap-northeast-2.amazonaws.com:5671/vh", scheme: "amqp", port: svc.AMQP_PORT, upstreamPort: svc.AMQPS_PORT },
};

// A pod with the tunnel: it is a native sidecar (an init container that keeps running) with TCP
// probes, its configuration comes from a ConfigMap of the layout, and each of the service's
// Redis and AMQP URLs is plain, on 127.0.0.1, on a port the tunnel accepts and sends over TLS to
// the right kind of endpoint.
export function tlsTunnel(docs: Doc[], image: string): string[] {
  const v: string[] = [];
  for (const { d, pod } of podSpecs(docs)) {
    const side = (pod.initContainers ?? []).find((c: Obj) => c.name === "tls-tunnel");
    if (!side) continue;
    const where = `${describe(d)} sidecar`;
    if (side.restartPolicy !== "Always") v.push(`${where}: restartPolicy is not Always (not a sidecar: the pod would wait for it to exit)`);
    if (side.image !== image) v.push(`${where}: image ${side.image}, not ${image}`);
    const declared = new Set((side.ports ?? []).map((p: Obj) => p.containerPort));
    for (const kind of ["startupProbe", "livenessProbe"]) {
      const pr = side[kind];
      if (!pr?.tcpSocket) v.push(`${where}: no ${kind} (tcpSocket)`);
      else if (!declared.has(portNumber(side, pr.tcpSocket.port))) v.push(`${where}: ${kind} on a port it does not declare`);
    }
    // Its configuration file, through the volume mounted at the path its command names.
    const confPath: string = (side.command ?? []).concat(side.args ?? []).find((x: string) => x.endsWith(".conf")) ?? "";
    const mount = (side.volumeMounts ?? []).find((m: Obj) => confPath.startsWith(m.mountPath + "/"));
    const vol = (pod.volumes ?? []).find((x: Obj) => x.name === mount?.name);
    const cm = ofKind(nsDocs(docs, d.pattern), "ConfigMap").find((x) => x.obj.metadata.name === vol?.configMap?.name);
    const key = confPath.slice((mount?.mountPath ?? "").length + 1);
    const item = (vol?.configMap?.items ?? [{ key, path: key }]).find((i: Obj) => i.path === key);
    const conf: string | undefined = cm?.obj.data?.[item?.key];
    if (conf === undefined) {
      v.push(`${where}: configuration ${confPath} not found in a ConfigMap volume`);
      continue;
    }
    const routes = tunnelRoutes(conf);
    for (const [port] of routes) if (!declared.has(port)) v.push(`${where}: accepts on ${port} without declaring it`);
    const app = pod.containers?.[0] ?? {};
    for (const e of app.env ?? []) {
      const sample = SAMPLE_URLS[e.name];
      if (!sample) continue;
      const ref = e.valueFrom?.secretKeyRef;
      const es = ofKind(nsDocs(docs, d.pattern), "ExternalSecret").find((x) => (x.obj.spec?.target?.name ?? x.obj.metadata.name) === ref?.name);
      const tpl = es?.obj.spec?.target?.template?.data?.[ref?.key];
      if (!tpl) {
        v.push(`${where}: ${e.name} is read as Secrets Manager has it, not through the tunnel`);
        continue;
      }
      const vars = Object.fromEntries((es!.obj.spec?.data ?? []).map((x: Obj) => [x.secretKey, sample.remote]));
      let url: URL;
      try {
        url = new URL(renderTemplate(tpl, vars));
      } catch (err) {
        v.push(`${where}: ${e.name}: ${(err as Error).message}`);
        continue;
      }
      const remote = new URL(sample.remote);
      if (url.hostname !== "127.0.0.1") v.push(`${where}: ${e.name} goes to ${url.hostname}, not loopback`);
      if (url.protocol !== `${sample.scheme}:`) v.push(`${where}: ${e.name} is ${url.protocol}, not plain ${sample.scheme}:`);
      if (url.password !== remote.password || url.username !== remote.username || url.pathname !== remote.pathname) {
        v.push(`${where}: ${e.name} loses the credentials or the path`);
      }
      const route = routes.get(Number(url.port));
      if (!route) v.push(`${where}: ${e.name} on port ${url.port}, where the tunnel does not accept`);
      else {
        if (!route.tls) v.push(`${where}: port ${url.port} is not forwarded as a TLS client checking the host`);
        if (route.port !== sample.upstreamPort) v.push(`${where}: ${e.name} is forwarded to port ${route.port}, not ${sample.upstreamPort}`);
      }
    }
  }
  return v;
}

// ---- what the service really declares (read from src/)

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const f = join(dir, n);
    if (statSync(f).isDirectory()) sourceFiles(f, out);
    else if (/\.(cpp|hpp)$/.test(n)) out.push(f);
  }
  return out;
}

let sourceCache: string | undefined;
function source(): string {
  sourceCache ??= sourceFiles(join(REPO_DIR, "src")).map((f) => readFileSync(f, "utf8")).join("\n");
  return sourceCache;
}

// Metric names the service registers (Registry::counter/gauge/histogram("name", ...)).
export function exportedMetrics(): Set<string> {
  const out = new Set<string>();
  const re = /\b(?:counter|gauge|histogram)\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"/g;
  for (let m; (m = re.exec(source())); ) out.add(m[1]);
  return out;
}

// The workers' queue: BusOptions::queue's default in src/messaging/bus.hpp.
export function declaredWorkerQueues(): Set<string> {
  const out = new Set<string>();
  const bus = readFileSync(join(REPO_DIR, "src", "messaging", "bus.hpp"), "utf8");
  const m = /std::string\s+queue\s*=\s*"([^"]+)"/.exec(bus);
  if (m) out.add(m[1]);
  return out;
}

// Settings the service reads (get("TICKETING_...") in src/main/config.cpp).
export function knownSettings(): Set<string> {
  const cfg = readFileSync(join(REPO_DIR, "src", "main", "config.cpp"), "utf8");
  return new Set([...cfg.matchAll(/get\("(TICKETING_[A-Z0-9_]+)"/g)].map((m) => m[1]));
}

// Every TICKETING_* name given to a process (ConfigMap keys, env, Secret keys) is one the service
// reads: a misspelt name would be ignored silently and leave the default in force.
export function settingNames(docs: Doc[], known = knownSettings()): string[] {
  const v: string[] = [];
  const check = (d: Doc, name: string) => {
    if (name.startsWith("TICKETING_") && !known.has(name)) v.push(`${describe(d)}: ${name} is not a setting of the service`);
  };
  for (const d of docs) {
    if (d.obj.kind === "ConfigMap") Object.keys(d.obj.data ?? {}).forEach((k) => check(d, k));
    if (d.obj.kind === "ExternalSecret") {
      (d.obj.spec?.data ?? []).forEach((x: Obj) => check(d, x.secretKey));
      Object.keys(d.obj.spec?.target?.template?.data ?? {}).forEach((k) => check(d, k));
    }
    if (d.obj.kind === "Deployment") {
      for (const c of d.obj.spec?.template?.spec?.containers ?? []) (c.env ?? []).forEach((e: Obj) => check(d, e.name));
    }
  }
  return v;
}

const PROMQL_WORDS = new Set([
  "sum", "max", "min", "avg", "count", "by", "without", "rate", "irate", "increase", "on", "ignoring",
  "group_left", "group_right", "and", "or", "unless", "topk", "bottomk", "quantile", "histogram_quantile",
  "offset", "bool", "absent", "clamp_min", "clamp_max", "vector", "scalar", "time",
]);

// Metric names in a PromQL expression: identifiers outside label matchers and grouping lists.
export function promqlMetrics(q: string): string[] {
  const bare = q.replace(/\{[^}]*\}/g, "{}").replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, "").replace(/"[^"]*"/g, '""');
  const out: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) if (!PROMQL_WORDS.has(m[0])) out.push(m[0]);
  return out;
}

export function kedaTriggers(docs: Doc[], metrics = exportedMetrics(), queues = declaredWorkerQueues()): string[] {
  const v: string[] = [];
  for (const so of ofKind(docs, "ScaledObject")) {
    const here = nsDocs(docs, so.pattern);
    for (const t of so.obj.spec?.triggers ?? []) {
      const where = `${describe(so)} trigger ${t.type}`;
      const m = t.metadata ?? {};
      if (t.type === "rabbitmq") {
        if (!queues.has(m.queueName)) v.push(`${where}: queue ${m.queueName} is not declared by the service (${[...queues].join(", ")})`);
        if (m.mode !== "QueueLength") v.push(`${where}: not on the queue length`);
        if (m.host) v.push(`${where}: host written in the manifest`);
        const auth = t.authenticationRef;
        const ta = ofKind(here, auth?.kind ?? "TriggerAuthentication").find((x) => x.obj.metadata.name === auth?.name);
        if (!ta) v.push(`${where}: TriggerAuthentication ${auth?.name} missing`);
        else {
          const host = (ta.obj.spec?.secretTargetRef ?? []).find((r: Obj) => r.parameter === "host");
          if (!host) v.push(`${describe(ta)}: no host from a Secret`);
          else {
            const es = ofKind(here, "ExternalSecret").find((e) => (e.obj.spec?.target?.name ?? e.obj.metadata.name) === host.name);
            if (!es?.obj.spec?.data?.some((x: Obj) => x.secretKey === host.key)) v.push(`${describe(ta)}: Secret ${host.name}/${host.key} is not written by External Secrets`);
          }
        }
      } else if (t.type === "prometheus") {
        const names = promqlMetrics(String(m.query ?? ""));
        if (!names.length) v.push(`${where}: no metric in the query`);
        for (const n of names) if (!metrics.has(n)) v.push(`${where}: metric ${n} is not exported by the service`);
        if (!m.serverAddress || !m.threshold) v.push(`${where}: no server or threshold`);
        const ns = so.obj.metadata.namespace;
        if (!String(m.query).includes(`namespace="${ns}"`)) v.push(`${where}: the query is not limited to namespace ${ns}`);
      } else if (t.type === "cpu" || t.type === "memory") {
        const target = ofKind(here, "Deployment").find((d) => d.obj.metadata.name === so.obj.spec?.scaleTargetRef?.name);
        for (const c of target?.obj.spec?.template?.spec?.containers ?? []) {
          if (!c.resources?.requests?.[t.type]) v.push(`${where}: container ${c.name} has no ${t.type} request`);
        }
      } else {
        v.push(`${where}: unexpected trigger type`);
      }
    }
  }
  return v;
}

// ---- network policies

export interface Flows {
  defaultDeny: string[]; // policies that select every pod with no rule, for both directions
  flows: Set<string>;
}

function peerText(peer: Obj, p: P, docs: Doc[]): string {
  if (peer.ipBlock) return `cidr ${peer.ipBlock.cidr}${peer.ipBlock.except?.length ? " except " + peer.ipBlock.except.join(",") : ""}`;
  if (peer.namespaceSelector) {
    return `namespace ${JSON.stringify(peer.namespaceSelector)} pods ${JSON.stringify(peer.podSelector ?? {})}`;
  }
  if (peer.podSelector) {
    const names = podSpecs(nsDocs(docs, p)).filter((x) => selects(peer.podSelector, x.labels) || !Object.keys(peer.podSelector).length).map((x) => x.d.obj.metadata.name).sort();
    return `pods ${names.join(",") || "(none)"}`;
  }
  return "anything";
}

// Every allowed (direction, pod, peer, port) of each pattern, with named ports resolved.
export function flows(docs: Doc[], p: P): Flows {
  const out: Flows = { defaultDeny: [], flows: new Set() };
  const deps = podSpecs(nsDocs(docs, p));
  for (const np of ofKind(docs, "NetworkPolicy", p)) {
    const spec = np.obj.spec ?? {};
    const types: string[] = spec.policyTypes ?? (spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
    const sel = spec.podSelector ?? {};
    const all = !sel.matchLabels && !sel.matchExpressions;
    if (all && types.includes("Ingress") && types.includes("Egress") && !spec.ingress?.length && !spec.egress?.length) {
      out.defaultDeny.push(np.obj.metadata.name);
    }
    const pods = deps.filter((x) => all || selects(sel, x.labels));
    for (const [dir, rules] of [["ingress", spec.ingress ?? []], ["egress", spec.egress ?? []]] as const) {
      if (!types.includes(dir === "ingress" ? "Ingress" : "Egress")) continue;
      for (const r of rules as Obj[]) {
        const peers: Obj[] = (dir === "ingress" ? r.from : r.to) ?? [{}];
        const ports: Obj[] = r.ports?.length ? r.ports : [{ protocol: "any", port: "any" }];
        for (const x of all ? [{ d: { obj: { metadata: { name: "*" } } }, pod: { containers: [] } }] : pods) {
          for (const peer of peers) {
            for (const port of ports) {
              let n: string | number = port.port ?? "any";
              if (typeof n === "string" && n !== "any") {
                const c = (x.pod.containers ?? [])[0] ?? {};
                n = dir === "ingress" ? portNumber(c, n) ?? `unknown:${n}` : `named:${n}`;
              }
              out.flows.add(`${dir} ${x.d.obj.metadata.name} ${dir === "ingress" ? "from" : "to"} ${peerText(peer, p, docs)} ${(port.protocol ?? "TCP").toLowerCase()}/${n}`);
            }
          }
        }
      }
    }
  }
  return out;
}
