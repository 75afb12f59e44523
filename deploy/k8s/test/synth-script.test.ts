// What synth.sh wrote (test.sh runs it first and passes its folder) is what the charts make.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readOut, synthDocs } from "./lib/docs";

const out = process.env.K8S_SYNTH_OUT;

test("synth.sh wrote both layouts, the same documents as the charts", { skip: !out && "run through test.sh" }, () => {
  assert.ok(out && existsSync(`${out}/pattern-a`) && existsSync(`${out}/pattern-b`));
  const written = readOut(out!);
  const expected = synthDocs().docs;
  assert.deepEqual(written.map((d) => [d.file, d.obj]), expected.map((d) => [d.file, d.obj]));
});
