// TargetGroupBinding (elbv2.k8s.aws/v1beta1) of the AWS Load Balancer Controller: registers the
// pods behind a Service in an existing target group. No npm model of this CRD exists for the
// pinned toolchain, so this one covers exactly the fields the charts use, from the controller's
// CRD (config/crd/bases/elbv2.k8s.aws_targetgroupbindings.yaml): the TypeScript interface for the
// compile-time and strict unknown-field checks, a JSON schema with no additional properties at any
// level for validate().
import Ajv, { ErrorObject } from "ajv";
import type { IObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";

export interface ITargetGroupBinding {
  apiVersion: "elbv2.k8s.aws/v1beta1";
  kind: "TargetGroupBinding";
  metadata: IObjectMeta;
  spec: {
    serviceRef: { name: string; port: number | string };
    targetGroupARN: string;
    targetType?: "instance" | "ip";
    ipAddressType?: "ipv4" | "ipv6";
  };
}

const labelMap = { type: "object", additionalProperties: { type: "string" } };

export const schema = {
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { const: "elbv2.k8s.aws/v1beta1" },
    kind: { const: "TargetGroupBinding" },
    metadata: {
      type: "object",
      additionalProperties: false,
      required: ["name"],
      properties: {
        name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 253 },
        namespace: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 },
        labels: labelMap,
        annotations: labelMap,
      },
    },
    spec: {
      type: "object",
      additionalProperties: false,
      required: ["serviceRef", "targetGroupARN"],
      properties: {
        serviceRef: {
          type: "object",
          additionalProperties: false,
          required: ["name", "port"],
          properties: {
            name: { type: "string", minLength: 1 },
            port: { oneOf: [{ type: "integer", minimum: 1, maximum: 65535 }, { type: "string", minLength: 1 }] },
          },
        },
        targetGroupARN: { type: "string", pattern: "^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[^/]+/[0-9a-f]+$" },
        targetType: { enum: ["instance", "ip"] },
        ipAddressType: { enum: ["ipv4", "ipv6"] },
      },
    },
  },
} as const;

let compiled: ReturnType<Ajv["compile"]> | undefined;

export class TargetGroupBinding {
  private readonly data: ITargetGroupBinding;

  constructor(data: Omit<ITargetGroupBinding, "apiVersion" | "kind">) {
    // Everything given is kept, so validate() sees a misspelt field too.
    this.data = { apiVersion: "elbv2.k8s.aws/v1beta1", kind: "TargetGroupBinding", ...data };
  }

  toJSON(): ITargetGroupBinding {
    return JSON.parse(JSON.stringify(this.data)) as ITargetGroupBinding;
  }

  // Throws like the kubernetes-models validators: an error whose `errors` lists the violations.
  validate(): void {
    compiled ??= new Ajv({ allErrors: true, strict: true }).compile(schema);
    if (!compiled(this.toJSON())) {
      const errors = (compiled.errors ?? []) as ErrorObject[];
      throw Object.assign(new Error(errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ")), { errors });
    }
  }
}
