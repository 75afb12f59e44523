// Shared helpers of the browser tests: the service's API (setup and the small crowd), Debian's
// chromium through playwright-core, screenshots into TK_SHOTS (a build folder in the test run,
// docs/screenshots with scripts/screenshots.sh).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const BASE = process.env.TK_BASE ?? 'http://127.0.0.1:8080';
export const ADMIN = process.env.TK_ADMIN ?? 'e2e-admin';
export const SHOTS = process.env.TK_SHOTS ?? '';
export const PG_URL = process.env.TK_PG_URL ?? '';

export const uid = () => randomBytes(6).toString('hex');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function api(method, path, { body, token, access, ticket, key } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (access) headers['Access-Token'] = access;
  if (ticket) headers['Queue-Ticket'] = ticket;
  if (key) headers['Idempotency-Key'] = key;
  const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  return { status: res.status, data, headers: res.headers };
}

export async function must(method, path, opts) {
  const r = await api(method, path, opts);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}

/** A venue ("A": rows 1..rows of `perRow` seats, grades R then S), an event and a performance. */
export async function createSale({ rows = 2, perRow = 6, open = true, queue = {}, perOrder = 4, perAccount, holdTtl = 300,
                                   title, venueName } = {}) {
  const sections = [{ name: 'A', rows: Array.from({ length: rows }, (_, i) => ({ label: String(i + 1), seats: perRow, grade: i === 0 ? 'R' : 'S' })) }];
  const venue = await must('POST', '/v1/admin/venues', { token: ADMIN, body: { name: venueName ?? `Hall ${uid()}`, sections } });
  const event = await must('POST', '/v1/admin/events', { token: ADMIN, body: { title: title ?? `Concert ${uid()}`, venue_id: venue.id } });
  const now = Date.now();
  const perf = await must('POST', `/v1/admin/events/${event.id}/performances`, { token: ADMIN, body: {
    starts_at: new Date(now + 30 * 86400e3).toISOString(),
    sale_opens_at: new Date(now + (open ? -60e3 : 86400e3)).toISOString(),
    price_grades: [{ grade: 'R', price_cents: 150000, currency: 'KRW' }, { grade: 'S', price_cents: 90000, currency: 'KRW' }]
      .filter((g) => g.grade === 'R' || rows > 1),
    max_seats_per_order: perOrder, max_seats_per_account: perAccount ?? perOrder, hold_ttl_seconds: holdTtl,
    queue: { admit_per_interval: 100, interval_ms: 200, max_active: 1000, access_ttl_seconds: 600, ...queue },
  } });
  if (open) await must('PATCH', `/v1/admin/performances/${perf.id}`, { token: ADMIN, body: { status: 'on_sale' } });
  return { venue, event, perf: perf.id, title: title ?? null, venueName: venueName ?? null };
}

export async function account() {
  const email = `buyer-${uid()}@example.com`;
  const password = 'correct horse battery';
  await must('POST', '/v1/accounts', { body: { email, password, name: 'Buyer' } });
  const s = await must('POST', '/v1/sessions', { body: { email, password } });
  return { email, password, token: s.session_token, expiresAt: s.expires_at };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.TK_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           // Behind the HA front (TLS from the test's own CA): trust exactly that server's key.
           ...(process.env.TK_SPKI ? [`--ignore-certificate-errors-spki-list=${process.env.TK_SPKI}`] : [])],
  });
}

export async function newPage(browser, { locale = 'en-US', viewport = { width: 1100, height: 860 }, ...rest } = {}) {
  const context = await browser.newContext({ locale, viewport, baseURL: BASE, ...rest });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.jsErrors = errors;
  return { context, page };
}

/** A phone's screen (390 x 844 CSS px, touch). */
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/** Opens the operator console with the admin token already entered (kept in sessionStorage). */
export async function asAdmin(page) {
  await page.goto('/admin');
  await page.evaluate((tok) => sessionStorage.setItem('tk.admin', tok), ADMIN);
}

/** Logs in through the log-in form (the session lands in localStorage). */
export async function uiLogin(page, acc, next = '/') {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel(/E-mail|이메일/).fill(acc.email);
  await page.getByLabel(/Password|비밀번호/).fill(acc.password);
  await page.getByRole('button', { name: /Log in|로그인/ }).click();
}

export async function shot(page, name, opts = {}) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), ...opts });
}

export function psql(sql) {
  return execFileSync('psql', [PG_URL, '-At', '-c', sql], { encoding: 'utf8' }).trim();
}

/** One buyer through the API: join, wait for admission, hold one free seat, order, pay. */
export async function apiBuyer(pid, { pay = true, rng = Math.random } = {}) {
  const acc = await account();
  const join = await must('POST', `/v1/performances/${pid}/queue`, { token: acc.token });
  let access = null;
  for (let i = 0; i < 300 && !access; i++) {
    const st = await api('GET', `/v1/performances/${pid}/queue/status`, { ticket: join.ticket });
    if (st.data?.state === 'admitted') access = st.data.access_token;
    else if (st.data?.state === 'sold_out' || st.data?.state === 'closed') return { acc, sold: 0 };
    else await sleep(Math.min(1000, Number(st.headers.get('retry-after') ?? 1) * 1000));
  }
  if (!access) throw new Error('never admitted');
  const lost = new Set();   // seats someone else held first: the map may show them free a moment longer
  for (let tries = 0; tries < 20; tries++) {
    const seats = await must('GET', `/v1/performances/${pid}/seats`, { token: acc.token, access });
    const free = seats.seats.filter((s) => s.state === 'available' && !lost.has(s.id));
    if (!free.length) return { acc, sold: 0 };
    const seat = free[Math.floor(rng() * free.length)].id;
    const hold = await api('POST', `/v1/performances/${pid}/holds`, { token: acc.token, access, body: { seat_ids: [seat] } });
    if (hold.status === 409) {
      lost.add(seat);
      continue;
    }
    if (hold.status !== 201) throw new Error(`hold ${hold.status} ${JSON.stringify(hold.data)}`);
    const order = await must('POST', '/v1/orders', { token: acc.token, body: { hold_id: hold.data.hold_id } });
    if (!pay) return { acc, sold: 0, hold: hold.data };
    await sleep(200 + rng() * 600);   // a person typing a card number
    await must('POST', `/v1/orders/${order.id}/payment`, { token: acc.token, key: uid(), body: { method: 'card', card_token: 'tok_ok' } });
    return { acc, sold: 1 };
  }
  return { acc, sold: 0 };
}

/** Puts an API-made session into the page's localStorage, as the log-in form would. */
export async function useSession(page, acc) {
  await page.goto('/');
  await page.evaluate((s) => localStorage.setItem('tk.session', JSON.stringify(s)),
    { token: acc.token, email: acc.email, expiresAt: acc.expiresAt });
}

/** A logged-in buyer through the waiting room to the seat map, with seat states painted. */
export async function toSeats(page, pid, acc) {
  await useSession(page, acc);
  await page.goto(`/p/${pid}/queue`);
  await page.waitForURL(`**/p/${pid}/seats`, { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('.seat[aria-disabled="false"]') !== null);
}

/** An API buyer through the waiting room holding `seatIds` (join, admission, hold). */
export async function apiHold(pid, acc, seatIds) {
  const join = await must('POST', `/v1/performances/${pid}/queue`, { token: acc.token });
  let access = null;
  for (let i = 0; i < 100 && !access; i++) {
    const st = await must('GET', `/v1/performances/${pid}/queue/status`, { ticket: join.ticket });
    if (st.state === 'admitted') access = st.access_token; else await sleep(200);
  }
  if (!access) throw new Error('never admitted');
  return must('POST', `/v1/performances/${pid}/holds`, { token: acc.token, access, body: { seat_ids: seatIds } });
}

/** The API buyer's own purchase of `n` seats (join, admission, hold, order, pay). */
export async function apiBuy(pid, acc, seatIds) {
  const hold = await apiHold(pid, acc, seatIds);
  const order = await must('POST', '/v1/orders', { token: acc.token, body: { hold_id: hold.hold_id } });
  await must('POST', `/v1/orders/${order.id}/payment`, { token: acc.token, key: uid(), body: { method: 'card', card_token: 'tok_ok' } });
  return order;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core on the page as it is; serious or critical violations fail, named by rule and
 *  element. Returns the violations of lesser impact, for a look. */
export async function axe(page, screen) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  if (text.length) throw new Error(`axe on ${screen}:\n  ${text.join('\n  ')}`);
  return r.violations;
}
