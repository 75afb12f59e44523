// Settings files: overrides reach the manifests, misspelt settings are refused, and a cluster's
// values still give valid documents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ofKind, synthDocs } from "./lib/docs";
import { validate } from "./lib/schema";
import { load } from "../src/settings";

function file(obj: unknown): string {
  const f = join(mkdtempSync(join(tmpdir(), "k8s-settings-")), "settings.json");
  writeFileSync(f, JSON.stringify(obj));
  return f;
}

test("a settings file and K8S_* variables override the defaults", () => {
  const s = load(
    file({
      namespace: "tickets-prod",
      aws: { region: "us-east-1", secretNames: { app: "prod/ticketing/app" } },
      network: { redisCidrs: ["10.20.0.0/24"], prometheusPodLabels: { team: "obs" } },
      ingress: { enabled: true, host: "tickets.example.com", certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/abc" },
      targetGroupBinding: { enabled: false },
      tlsTunnel: { enabled: false },
      prometheusUrl: "http://prometheus.obs.svc:9090",
    }),
    { K8S_IMAGE_REGISTRY: "registry.example.com/shop", K8S_IMAGE_TAG: "2.0.1" },
  );
  assert.equal(s.namespace, "tickets-prod");
  assert.equal(s.aws.secretNames.app, "prod/ticketing/app");
  assert.equal(s.aws.secretNames.redis, "ticketing/redis", "untouched keys keep their default");
  assert.deepEqual(s.network.prometheusPodLabels, { "app.kubernetes.io/name": "prometheus", team: "obs" });
  const { docs } = synthDocs(s);
  assert.deepEqual(docs.flatMap((d) => validate(d.obj)), []);
  const images = new Set(ofKind(docs, "Deployment").map((d) => d.obj.spec.template.spec.containers[0].image));
  assert.deepEqual([...images], ["registry.example.com/shop/ticketing:2.0.1"]);
  assert.deepEqual(ofKind(docs, "TargetGroupBinding"), []);
  assert.ok(ofKind(docs, "Deployment").every((d) => !d.obj.spec.template.spec.initContainers), "no sidecar when the tunnel is off");
  const so = ofKind(docs, "ScaledObject", "a").find((d) => d.obj.metadata.name === "gateway")!.obj;
  assert.equal(so.spec.triggers[0].metadata.serverAddress, "http://prometheus.obs.svc:9090");
  const ing = ofKind(docs, "Ingress", "a")[0].obj;
  assert.equal(ing.spec.rules[0].host, "tickets.example.com");
  assert.equal(ing.metadata.annotations["alb.ingress.kubernetes.io/ssl-redirect"], "443");
  const es = ofKind(docs, "ExternalSecret", "a").find((d) => d.obj.metadata.name === "ticketing-secrets")!.obj;
  assert.ok(es.spec.data.some((x: any) => x.remoteRef.key === "prod/ticketing/app"));
  assert.ok(docs.every((d) => d.obj.kind === "Namespace" ? d.obj.metadata.name === "tickets-prod" : d.obj.metadata.namespace === "tickets-prod"));
});

test("a misspelt or mistyped setting is refused", () => {
  assert.throws(() => load(file({ namepsace: "x" }), {}), /unknown setting settings\.namepsace/);
  assert.throws(() => load(file({ scaling: { api: { max: "30" } } }), {}), /settings\.scaling\.api\.max/);
});

test("one way to the load balancer, a target group ARN, and the tunnel's endpoints are required", () => {
  assert.throws(() => load(file({ ingress: { enabled: true } }), {}), /both true/);
  assert.throws(() => load(file({ targetGroupBinding: { enabled: false } }), {}), /nothing would reach the front/);
  assert.throws(() => load(file({ targetGroupBinding: { targetGroupArn: "ticketing-app" } }), {}), /not a target group ARN/);
  assert.throws(() => load(file({ tlsTunnel: { redisHost: "" } }), {}), /tlsTunnel\.enabled needs/);
  const arn = "arn:aws:elasticloadbalancing:ap-northeast-2:444455556666:targetgroup/Ticke-AppAB-1X2Y3Z/73e2d6bc24d8a067";
  const s = load(file({ targetGroupBinding: { targetGroupArn: arn }, tlsTunnel: { image: "444455556666.dkr.ecr.ap-northeast-2.amazonaws.com/stunnel:5.68" } }), {});
  const { docs } = synthDocs(s);
  assert.deepEqual(ofKind(docs, "TargetGroupBinding").map((d) => d.obj.spec.targetGroupARN), [arn, arn]);
  const images = new Set(ofKind(docs, "Deployment").map((d) => d.obj.spec.template.spec.initContainers[0].image));
  assert.deepEqual([...images], ["444455556666.dkr.ecr.ap-northeast-2.amazonaws.com/stunnel:5.68"]);
});
