// Synthesises the manifests into a temporary folder and reads the YAML back, as kubectl would.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { synth } from "../../src/charts";
import { defaults, Settings } from "../../src/settings";

export type Obj = Record<string, any>;

export interface Doc {
  pattern: "a" | "b";
  file: string; // pattern-x/NAME.k8s.yaml
  index: number; // order of the document among the pattern's files (file order, then position)
  obj: Obj;
}

export const K8S_DIR = resolve(__dirname, "..", "..", "..");
export const REPO_DIR = resolve(K8S_DIR, "..", "..");

export function readOut(out: string): Doc[] {
  const docs: Doc[] = [];
  for (const pattern of ["a", "b"] as const) {
    const dir = join(out, `pattern-${pattern}`);
    let index = 0;
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".yaml")).sort()) {
      for (const d of parseAllDocuments(readFileSync(join(dir, f), "utf8"))) {
        if (d.errors.length) throw new Error(`${f}: ${d.errors[0].message}`);
        const obj = d.toJS();
        if (obj == null) continue;
        docs.push({ pattern, file: `pattern-${pattern}/${f}`, index: index++, obj });
      }
    }
  }
  return docs;
}

export function synthDocs(s: Settings = defaults()): { out: string; docs: Doc[] } {
  const out = mkdtempSync(join(tmpdir(), "k8s-synth-"));
  synth(out, s);
  return { out, docs: readOut(out) };
}

export function describe(d: Doc): string {
  return `${d.file} ${d.obj.kind}/${d.obj.metadata?.name}`;
}

export function ofKind(docs: Doc[], kind: string, pattern?: "a" | "b"): Doc[] {
  return docs.filter((d) => d.obj.kind === kind && (!pattern || d.pattern === pattern));
}

export function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}
