// Two checks of every document against its kind's schema:
//  - validate(): the kind's model (kubernetes-models, @kubernetes-models/keda,
//    @kubernetes-models/external-secrets) runs its JSON-schema validator: types, enums, required
//    fields. Those schemas allow properties they do not name, so a misspelt field would pass.
//    TargetGroupBinding has no npm model: src/models/elbv2.k8s.aws holds one of ours, whose schema
//    names every property it allows.
//  - strictCheck(): every document is written out as a TypeScript object literal typed with its
//    kind's interface (generated from the same OpenAPI / CRD schemas) and type-checked: TypeScript
//    rejects a property an object type does not declare, at any depth ("excess property" check),
//    and a wrong type or enum value as well.
import * as ts from "typescript";
import { join } from "node:path";
import { K8S_DIR } from "./docs";

// Models of this repository (src/models/GROUP/VERSION): compiled ones for validate(), the sources
// for the strict check.
const LOCAL_GROUPS = new Set(["elbv2.k8s.aws"]);

type Obj = Record<string, any>;

// apiVersion group -> the package folder holding its models.
function moduleOf(apiVersion: string, forTypes = false): string | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (LOCAL_GROUPS.has(group) && /^v[0-9a-z]+$/.test(version)) {
    return forTypes ? `./src/models/${group}/${version}` : join(__dirname, "..", "..", "src", "models", group, version);
  }
  if (group === "keda.sh") return `@kubernetes-models/keda/keda.sh/${version}`;
  if (group === "external-secrets.io") return `@kubernetes-models/external-secrets/external-secrets.io/${version}`;
  if (group === "") return `kubernetes-models/${version}`;
  if (group.includes(".") && !group.endsWith(".k8s.io")) return undefined; // a CRD we have no model of
  return `kubernetes-models/${group}/${version}`;
}

export function validate(obj: Obj): string[] {
  const mod = moduleOf(String(obj.apiVersion));
  if (!mod) return [`no schema for ${obj.apiVersion}`];
  let models: Record<string, any>;
  try {
    models = require(mod);
  } catch {
    return [`no schema for ${obj.apiVersion}`];
  }
  const Model = models[obj.kind];
  if (typeof Model !== "function") return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    const err = e as { message?: string; errors?: Array<{ instancePath?: string; message?: string }> };
    if (err.errors?.length) return err.errors.map((x) => `${x.instancePath || "/"} ${x.message}`);
    return [String(err.message ?? e)];
  }
}

export interface StrictResult {
  errors: string[][]; // per input object
}

// Type-checks all objects in one program (one pass over the type declarations).
export function strictCheck(objs: Obj[]): StrictResult {
  const errors: string[][] = objs.map(() => []);
  const lines: string[] = [];
  const spans: Array<{ from: number; to: number }> = [];
  objs.forEach((o, i) => {
    const mod = moduleOf(String(o.apiVersion), true);
    if (!mod || typeof o.kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(o.kind)) {
      errors[i].push(`no schema for ${o.apiVersion} ${o.kind}`);
      spans.push({ from: -1, to: -1 });
      return;
    }
    lines.push(`import type { I${o.kind} as T${i} } from ${JSON.stringify(`${mod}/${o.kind}`)};`);
    const body = JSON.stringify(o, null, 1).split("\n");
    const from = lines.length;
    lines.push(`export const d${i}: T${i} = ${body[0]}`, ...body.slice(1));
    lines.push(";");
    spans.push({ from, to: lines.length - 1 });
  });

  const file = join(K8S_DIR, "__strict_check__.ts");
  const text = lines.join("\n");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    types: [],
  };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    name === file ? ts.createSourceFile(name, text, lang, true) : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === file ? text : readFile(name));

  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file)!;
  const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
  for (const d of diags) {
    const line = d.start === undefined ? -1 : sf.getLineAndCharacterOfPosition(d.start).line;
    const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n");
    // The first line names the problem; the deepest line names the property and its type.
    let text = msg.length > 1 ? `${msg[0]} / ${msg[msg.length - 1].trim()}` : msg[0];
    // Property names are JSON-quoted in the literal: '"replicass"' -> 'replicass'; long inline
    // types of the CRD models are cut.
    text = text.replace(/'"([^"']+)"'/g, "'$1'").replace(/in type '([^']{80})[^']*'/g, "in type '$1...'");
    const i = spans.findIndex((s) => line >= s.from && line <= s.to);
    if (i >= 0) {
      errors[i].push(`line ${line - spans[i].from + 1}: ${text}`);
    } else {
      // An import that does not resolve: the kind has no model.
      const m = /T(\d+)\b/.exec(lines[line] ?? "");
      if (m) errors[Number(m[1])].push(`no schema: ${text}`);
      else errors.forEach((e) => e.push(text));
    }
  }
  return { errors };
}
