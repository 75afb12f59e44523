// Every synthesised document against its kind's schema, and the strict check of unknown fields.
import { test } from "node:test";
import assert from "node:assert/strict";
import { clone, describe, ofKind, synthDocs } from "./lib/docs";
import { strictCheck, validate } from "./lib/schema";

const { docs } = synthDocs();

// ---- copies broken on purpose; the strict check type-checks them with the real documents in one
// program (one pass over the type declarations keeps the suite fast).

function deployment(name: string) {
  const d = docs.find((x) => x.obj.kind === "Deployment" && x.obj.metadata.name === name);
  assert.ok(d, name);
  return clone(d.obj);
}

const bad: Record<string, any> = {};
bad.replicass = deployment("api");
bad.replicass.spec.replicass = 3;
bad.readinessProbes = deployment("gateway");
{
  const c0 = bad.readinessProbes.spec.template.spec.containers[0];
  c0.readinessProbes = c0.readinessProbe;
  delete c0.readinessProbe;
}
bad.scaledObject = clone(ofKind(docs, "ScaledObject")[0].obj);
bad.scaledObject.spec.minReplicaCounts = bad.scaledObject.spec.minReplicaCount;
bad.externalSecret = clone(ofKind(docs, "ExternalSecret")[0].obj);
bad.externalSecret.spec.data[0].remoteRef.proprety = "x";
bad.networkPolicy = clone(ofKind(docs, "NetworkPolicy")[0].obj);
bad.networkPolicy.spec.podSelecter = {};
bad.wrongType = deployment("worker");
bad.wrongType.spec.template.spec.containers[0].imagePullPolicy = "Sometimes";
bad.wrongType.spec.minReadySeconds = "five";
bad.tgbField = clone(ofKind(docs, "TargetGroupBinding")[0].obj);
bad.tgbField.spec.serviceRef.prot = 8080;
bad.tgbTop = clone(ofKind(docs, "TargetGroupBinding")[0].obj);
bad.tgbTop.spec.targetGroupArn = bad.tgbTop.spec.targetGroupARN;
bad.tgbType = clone(ofKind(docs, "TargetGroupBinding")[0].obj);
bad.tgbType.spec.targetType = "pod";
bad.tgbType.spec.serviceRef.port = 0;
bad.sidecar = deployment("worker");
bad.sidecar.spec.template.spec.initContainers[0].restartPolicys = "Always";
bad.noSchema = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } };
bad.unknownCore = { apiVersion: "v1", kind: "Widgett", metadata: { name: "w" } };

const badNames = Object.keys(bad);
let strictResult: string[][] | undefined;
function strict(): string[][] {
  strictResult ??= strictCheck([...docs.map((d) => d.obj), ...badNames.map((n) => bad[n])]).errors;
  return strictResult;
}
function strictOf(name: string): string[] {
  return strict()[docs.length + badNames.indexOf(name)];
}

test("both layouts are synthesised, in more than one file each", () => {
  for (const p of ["a", "b"] as const) {
    const files = new Set(docs.filter((d) => d.pattern === p).map((d) => d.file));
    assert.ok(files.size >= 2, `pattern ${p}: ${[...files].join(", ")}`);
  }
});

test("every document validates against its kind's schema (Kubernetes, KEDA, External Secrets)", () => {
  const failures = docs.flatMap((d) => validate(d.obj).map((e) => `${describe(d)}: ${e}`));
  assert.deepEqual(failures, []);
});

test("every document passes the strict check (no field its schema does not declare)", () => {
  const failures = docs.flatMap((d, i) => strict()[i].map((e) => `${describe(d)}: ${e}`));
  assert.deepEqual(failures, []);
});

test("the kinds expected of each layout are there", () => {
  const kinds = (p: "a" | "b") => new Set(docs.filter((d) => d.pattern === p).map((d) => d.obj.kind));
  for (const k of ["Namespace", "ServiceAccount", "ConfigMap", "SecretStore", "ExternalSecret", "Deployment", "Service",
    "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "TargetGroupBinding"]) {
    assert.ok(kinds("a").has(k), `pattern A lacks ${k}`);
    assert.ok(kinds("b").has(k), `pattern B lacks ${k}`);
  }
  for (const k of ["ScaledObject", "TriggerAuthentication"]) assert.ok(kinds("a").has(k), `pattern A lacks ${k}`);
  // The ALB is deploy/cdk's: no Ingress asks the controller for another one.
  assert.deepEqual(ofKind(docs, "Ingress"), []);
});

test("a TargetGroupBinding with an unknown field, a wrong enum or a port out of range is rejected by both checks", () => {
  for (const [name, field] of [["tgbField", "prot"], ["tgbTop", "targetGroupArn"]]) {
    const errs = validate(bad[name]);
    assert.ok(errs.some((e) => e.includes("must NOT have additional properties")), `${name}: ${errs.join("\n")}`);
    const strictErrs = strictOf(name);
    assert.ok(strictErrs.some((e) => e.includes(`'${field}' does not exist`)), `${name}: ${strictErrs.join("\n")}`);
  }
  const errs = validate(bad.tgbType);
  assert.ok(errs.some((e) => e.includes("/spec/targetType")) && errs.some((e) => e.includes("/spec/serviceRef/port")), errs.join("\n"));
  assert.ok(strictOf("tgbType").some((e) => e.includes("'pod' is not assignable")), strictOf("tgbType").join("\n"));
});

test("a misspelt field in the sidecar is rejected (restartPolicys)", () => {
  const errs = strictOf("sidecar");
  assert.ok(errs.some((e) => e.includes("'restartPolicys' does not exist")), errs.join("\n"));
});

// ---- the checks reject what they must

test("a misspelt field at the top of a spec is rejected (replicass)", () => {
  assert.deepEqual(validate(bad.replicass), [], "the schema validator alone lets it through");
  const errs = strictOf("replicass");
  assert.ok(errs.some((e) => e.includes("'replicass' does not exist")), errs.join("\n"));
});

test("a misspelt field deep in a container is rejected (readinessProbes)", () => {
  const errs = strictOf("readinessProbes");
  assert.ok(errs.some((e) => e.includes("'readinessProbes' does not exist")), errs.join("\n"));
});

test("misspelt fields in KEDA, External Secrets and NetworkPolicy objects are rejected", () => {
  for (const [name, field] of [["scaledObject", "minReplicaCounts"], ["externalSecret", "proprety"], ["networkPolicy", "podSelecter"]]) {
    const errs = strictOf(name);
    assert.ok(errs.some((e) => e.includes(`'${field}' does not exist`)), `${name}: ${errs.join("\n")}`);
  }
});

test("a wrong type or enum value is rejected by both checks", () => {
  assert.ok(validate(bad.wrongType).length > 0);
  assert.ok(strictOf("wrongType").length >= 2, strictOf("wrongType").join("\n"));
});

test("a kind without a schema is rejected, not skipped", () => {
  for (const n of ["noSchema", "unknownCore"]) {
    assert.ok(validate(bad[n]).length > 0, n);
    assert.ok(strictOf(n).length > 0, n);
  }
});
