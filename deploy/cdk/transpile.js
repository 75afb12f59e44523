// Transpiles bin/, lib/ and test/ to dist/ without type-checking (about a second): the tests run
// on this output while `tsc --noEmit` type-checks beside them (test.sh).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = __dirname;
const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
});
const options = { ...config.options, incremental: false, tsBuildInfoFile: undefined, declaration: false };
for (const file of config.fileNames) {
  const source = fs.readFileSync(file, 'utf8');
  const out = ts.transpileModule(source, { compilerOptions: options, fileName: file });
  const target = path.join(options.outDir, path.relative(options.rootDir, file)).replace(/\.ts$/, '.js');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, out.outputText);
}
