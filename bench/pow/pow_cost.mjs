// What a proof-of-work difficulty costs: the web app's own solver (web/src/logic/pow.ts, bundled
// with esbuild) in headless Chromium on this machine, against a bot's native loop in C (one
// core, bench/pow/native_rate.c). Prints hashes per second of each and, per difficulty, the
// expected time to one place (2^d hashes) in each.
//   node bench/pow/pow_cost.mjs [--seconds S] [--cpu-slowdown F]
// --cpu-slowdown F: Chromium's CPU throttling (DevTools Emulation.setCPUThrottlingRate), e.g. 4
// for a mid-range phone as Lighthouse's mobile profile does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'web', 'package.json'));
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const seconds = arg('--seconds', 3);
const slowdown = arg('--cpu-slowdown', 1);

// A challenge as long as the service's (a signed token of about 170 characters).
const CHALLENGE = 'k1.' + 'A'.repeat(166);

const bundle = await esbuild.build({
  entryPoints: [join(root, 'web', 'src', 'logic', 'pow.ts')], bundle: true, write: false,
  format: 'iife', globalName: 'Pow', target: 'es2020',
});
const code = bundle.outputFiles[0].text;

// The bot: C on one core (bench/pow/native_rate.c, built here), libsodium and OpenSSL.
const tmp = mkdtempSync(join(tmpdir(), 'tk-pow-'));
let nativeRate, sodiumRate;
try {
  execFileSync('cc', ['-O2', '-o', join(tmp, 'native_rate'), join(root, 'bench', 'pow', 'native_rate.c'), '-lsodium', '-lcrypto']);
  // Best of three (a bot keeps its best), before the browser starts: nothing else runs then.
  sodiumRate = 0;
  nativeRate = 0;
  for (let i = 0; i < 3; i++) {
    const out = String(execFileSync(join(tmp, 'native_rate'), [CHALLENGE, String(seconds / 3)])).split(' ');
    sodiumRate = Math.max(sodiumRate, Number(out[0]));
    nativeRate = Math.max(nativeRate, Number(out[1]));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const browser = await chromium.launch({
  executablePath: process.env.TK_CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let browserRate;
try {
  const page = await browser.newPage();
  if (slowdown > 1) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: slowdown });
  }
  await page.addScriptTag({ content: code });
  // Difficulty 64 never succeeds: every counter is one hash.
  browserRate = await page.evaluate(async ({ ms, challenge }) => {
    const t0 = performance.now();
    let next = 1;
    while (performance.now() - t0 < ms) next = Pow.search(challenge, 64, next, 20000).next;
    return (next - 1) / ((performance.now() - t0) / 1000);
  }, { ms: seconds * 1000, challenge: CHALLENGE });
} finally {
  await browser.close();
}

const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(2));
console.log(`browser (headless Chromium${slowdown > 1 ? `, CPU ${slowdown}x slower` : ''}): ${fmt(browserRate)} hashes/s`);
console.log(`native, one core: libsodium ${fmt(sodiumRate)} hashes/s, OpenSSL ${fmt(nativeRate)} hashes/s (the bot below)`);
console.log('difficulty | hashes per place | browser s | native s | bot places per core-hour');
for (const d of [12, 14, 16, 18, 20, 22]) {
  const h = 2 ** d;
  console.log(`${d} | ${h.toLocaleString('en')} | ${fmt(h / browserRate)} | ${fmt(h / nativeRate)} | ${fmt(3600 * nativeRate / h)}`);
}
