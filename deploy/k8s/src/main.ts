// node dist/src/main.js OUT [SETTINGS.json]: writes OUT/pattern-a/*.yaml and OUT/pattern-b/*.yaml.
import { rmSync } from "node:fs";
import { synth } from "./charts";
import { load } from "./settings";

const [out, settingsFile] = process.argv.slice(2);
if (!out) {
  process.stderr.write("usage: main.js OUT [SETTINGS.json]\n");
  process.exit(2);
}
for (const p of ["pattern-a", "pattern-b"]) rmSync(`${out}/${p}`, { recursive: true, force: true });
try {
  synth(out, load(settingsFile));
} catch (e) {
  process.stderr.write(`synth: ${(e as Error).message}\n`);
  process.exit(1);
}
process.stdout.write(`wrote ${out}/pattern-a and ${out}/pattern-b\n`);
