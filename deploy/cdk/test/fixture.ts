// One synthesis per context, shared by every test in the process.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnSecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { IConstruct } from 'constructs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildApp, BuiltApp } from '../lib/app';

export interface Synthesised {
  readonly built: BuiltApp;
  readonly main: Template;
  readonly edge: Template;
  /** Every template of the assembly, nested stacks included: file name -> JSON text. */
  readonly files: Map<string, string>;
  /** The CloudFormation logical ID of a construct's L1 resource in the main stack. */
  id(c: IConstruct): string;
}

const cache = new Map<string, Synthesised>();

export function synth(context: Record<string, string> = {}): Synthesised {
  const key = JSON.stringify(context);
  const hit = cache.get(key);
  if (hit) return hit;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-cdk-test-'));
  try {
    return synthIn(outdir, key, context);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function synthIn(outdir: string, key: string, context: Record<string, string>): Synthesised {
  const app = new App({
    outdir,
    // Assets are referenced where they are instead of copied (tens of MB of Lambda layers).
    context: { 'aws:cdk:disable-asset-staging': true, account: '123456789012', ...context },
  });
  const built = buildApp(app);
  const assembly = app.synth();
  const files = new Map<string, string>();
  for (const f of fs.readdirSync(assembly.directory)) {
    if (f.endsWith('.template.json')) files.set(f, fs.readFileSync(path.join(assembly.directory, f), 'utf8'));
  }
  const main = Template.fromStack(built.main);
  const edge = Template.fromStack(built.edge);
  const s: Synthesised = {
    built,
    main,
    edge,
    files,
    id: (c: IConstruct) => {
      const child = (c.node.defaultChild ?? c) as CfnSecurityGroup;
      return Stack.of(c).getLogicalId(child);
    },
  };
  cache.set(key, s);
  return s;
}

/** The resources of one type in a template, as [logicalId, properties]. */
export function resources(t: Template, type: string): [string, any][] {
  return Object.entries(t.findResources(type)).map(([k, v]) => [k, (v as any).Properties ?? {}]);
}

/** The one resource of a type. */
export function only(t: Template, type: string): [string, any] {
  const all = resources(t, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** `{Ref: X}` or `{Fn::GetAtt: [X, ...]}` -> X; anything else as JSON. */
export function refOf(v: any): string {
  if (v && typeof v === 'object') {
    if ('Ref' in v) return v.Ref;
    if ('Fn::GetAtt' in v) return v['Fn::GetAtt'][0];
  }
  return JSON.stringify(v);
}
