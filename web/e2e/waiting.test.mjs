// The waiting room as a buyer meets it and the operator sets it: the proof of work solved in the
// page, the pre-queue's draw verified in the browser, leaving the queue, and the presence and idle
// timeouts that give an absent buyer's place to the next; each fails when its cause comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ADMIN, account, api, asAdmin, axe, createSale, launch, must, newPage, sleep, toSeats, uid, useSession } from './lib.mjs';

test('proof of work: the waiting room solves the challenge in a worker, shows progress, then joins', { timeout: 90_000 }, async () => {
  const sale = await createSale({ queue: { pow_difficulty: 16 } });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    // Each join with its answer. A loaded machine may refuse a join at the door (503 or 429 with
    // Retry-After); the page then comes back by itself with a freshly solved proof.
    const joins = [];
    page.on('response', (r) => {
      const q = r.request();
      if (q.method() !== 'POST' || !/\/queue$/.test(new URL(r.url()).pathname)) return;
      joins.push({ body: q.postDataJSON(), status: r.status(), retryAfter: r.headers()['retry-after'] ?? null });
    });
    // Records the progress message even if the solve is over before a poll could see it.
    await page.addInitScript(() => {
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid="queue-pow"]');
        if (el) window.__powShown = el.textContent;
      }).observe(document, { childList: true, subtree: true });
    });
    await useSession(page, acc);
    await page.goto(`/p/${sale.perf}/queue`);
    await page.waitForURL(`**/p/${sale.perf}/seats`, { timeout: 60_000 });
    const shown = await page.evaluate(() => window.__powShown ?? null);
    const seen = JSON.stringify(joins);
    const accepted = joins.filter((j) => j.status >= 200 && j.status < 300);
    assert.equal(accepted.length, 1, `one join accepted: ${seen}`);
    assert.equal(joins.at(-1), accepted[0], `none after the accepted one: ${seen}`);
    for (const j of joins) {
      assert.ok(j.body?.pow?.challenge && /^[0-9]+$/.test(j.body.pow.nonce), `every join with its proof: ${seen}`);
      if (j !== accepted[0]) assert.ok([429, 503].includes(j.status) && j.retryAfter, `only refusals at the door before it: ${seen}`);
    }
    assert.equal(new Set(joins.map((j) => j.body.pow.challenge)).size, joins.length, `a fresh challenge for each join: ${seen}`);
    assert.match(shown ?? '', /bots pay for every place they take \(\d+%\)/, 'the progress message was shown');
    assert.deepEqual(page.jsErrors.filter((e) => !/Failed to load resource|net::/.test(e)), []);
  } finally {
    await browser.close();
  }
});

/** The pre-queue's shuffle (sha256-ctr-fisher-yates-v1) once more, with node:crypto, to hold both
 *  the server's positions and the page's verification to it: the sorted entry ids in queue order. */
function drawnOrder(seedHex, entries) {
  const seed = Buffer.from(seedHex, 'hex');
  let block = 0n, buf = Buffer.alloc(32), at = 32;
  const next = () => {
    if (at === 32) {
      const k = Buffer.alloc(8);
      k.writeBigUInt64BE(block++);
      buf = createHash('sha256').update(seed).update(k).digest();
      at = 0;
    }
    const x = buf.readBigUInt64BE(at);
    at += 8;
    return x;
  };
  const a = entries.slice(), two64 = 1n << 64n;
  for (let i = a.length - 1; i >= 1; i--) {
    const bound = BigInt(i + 1), limit = two64 - (two64 % bound);
    let x = next();
    while (x >= limit) x = next();
    const j = Number(x % bound);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

test('pre-queue: joins before the opening are drawn at random, and the buyer verifies the draw in the browser', { timeout: 150_000 }, async () => {
  // The pre-queue opens QUEUE_IN after the performance is made and the sale SALE_IN after it:
  // everything that must happen inside the pre-queue is set up before, so the window stays short.
  const QUEUE_IN = 2_000, SALE_IN = 8_000;
  const HEX16 = /^[0-9a-f]{16}$/, HEX64 = /^[0-9a-f]{64}$/;
  // Two buyers in browsers, three through the API in the pre-queue, one joining after the opening.
  const [b1, b2, e1, e2, e3, late] = await Promise.all(Array.from({ length: 6 }, () => account()));
  const venue = await must('POST', '/v1/admin/venues', { token: ADMIN, body: { name: `Hall ${uid()}`,
    sections: [{ name: 'A', rows: [{ label: '1', seats: 6, grade: 'R' }] }] } });
  const event = await must('POST', '/v1/admin/events', { token: ADMIN, body: { title: `Pre-queue ${uid()}`, venue_id: venue.id } });
  const browser = await launch();
  try {
    const pages = [];
    for (const acc of [b1, b2]) {
      const { page } = await newPage(browser);
      // The pre-queue's screen as it was shown (the opening may come before a check could look).
      await page.addInitScript(() => {
        const grab = () => {
          const notYet = document.querySelector('[data-testid="prequeue-not-yet"]');
          if (notYet && !window.__notYet) window.__notYet = notYet.textContent;
          if (window.__pre) return;
          const panel = document.querySelector('[data-testid="prequeue"]');
          const fp = document.querySelector('[data-testid="prequeue-commitment"]');
          const entry = document.querySelector('[data-testid="queue-entry"]')?.textContent ?? '';
          const countdown = document.querySelector('[data-testid="prequeue-countdown"]')?.textContent ?? '';
          if (!panel || panel.hidden || !fp || !entry || !/^\d+:\d\d$/.test(countdown)) return;
          window.__pre = {
            countdown, entry, fingerprint: fp.textContent, title: fp.getAttribute('title'),
            full: document.querySelector('[data-testid="prequeue-commitment-full"]')?.textContent ?? '',
            fairness: document.querySelector('[data-testid="prequeue-fairness"]')?.textContent ?? '',
            stats: !document.querySelector('[data-testid="queue-position"]')?.closest('dl')?.hidden,
          };
        };
        new MutationObserver(grab).observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
      });
      await useSession(page, acc);
      pages.push(page);
    }

    const made = Date.now();
    const queueOpensAt = new Date(made + QUEUE_IN).toISOString();
    const saleOpensAt = new Date(made + SALE_IN).toISOString();
    // One buyer at a time: whoever is drawn first is admitted and keeps the only place for the
    // rest of the test (600 s to buy), so at least one browser buyer waits with a drawn position.
    const { id: pid } = await must('POST', `/v1/admin/events/${event.id}/performances`, { token: ADMIN, body: {
      starts_at: new Date(made + 30 * 86400e3).toISOString(), sale_opens_at: saleOpensAt, queue_opens_at: queueOpensAt,
      price_grades: [{ grade: 'R', price_cents: 150000, currency: 'KRW' }],
      queue: { admit_per_interval: 1, interval_ms: 1000, max_active: 1, access_ttl_seconds: 600 } } });

    // Before the pre-queue opens: it is announced, joins are refused, the commitment is published.
    const perf = await must('GET', `/v1/performances/${pid}`);
    assert.equal(Date.parse(perf.queue_opens_at), Date.parse(queueOpensAt));
    assert.equal(perf.status, 'scheduled');
    if (Date.now() < made + QUEUE_IN - 500) {
      const early = await api('POST', `/v1/performances/${pid}/queue`, { token: e1.token });
      assert.equal(early.status, 422, JSON.stringify(early.data));
      assert.equal(early.data.error.code, 'sale_not_open');
    }
    const before = await must('GET', `/v1/performances/${pid}/queue/fairness`);
    assert.match(before.seed_commitment, HEX64);
    assert.equal(before.seed, null);
    assert.equal(before.shuffle, 'sha256-ctr-fisher-yates-v1');
    assert.deepEqual(await must('GET', `/v1/performances/${pid}/queue/fairness/entries`), { complete: false, entries: [] });

    // Buyer 2 opens the waiting room early: it says when the pre-queue opens and joins by itself.
    await pages[1].goto(`/p/${pid}/queue`);
    // Buyer 1 comes once the pre-queue is open and joins it at once.
    await new Promise((r) => setTimeout(r, Math.max(0, made + QUEUE_IN + 300 - Date.now())));
    await pages[0].goto(`/p/${pid}/queue`);

    // Three more join through the API: no position yet, an entry id; joining again changes nothing.
    const entrants = [];
    for (const acc of [e1, e2, e3]) {
      const r = await api('POST', `/v1/performances/${pid}/queue`, { token: acc.token });
      assert.equal(r.status, 201, JSON.stringify(r.data));
      assert.equal(r.data.state, 'pre_queue');
      assert.equal(r.data.position, null);
      assert.match(r.data.entry_id, HEX16);
      const again = await api('POST', `/v1/performances/${pid}/queue`, { token: acc.token });
      assert.equal(again.status, 200);
      assert.equal(again.data.ticket, r.data.ticket);
      entrants.push({ ticket: r.data.ticket, entry: r.data.entry_id });
    }
    const st = await api('GET', `/v1/performances/${pid}/queue/status`, { ticket: entrants[0].ticket });
    assert.equal(st.data.state, 'pre_queue');
    assert.equal(st.data.position, null);
    assert.equal(st.data.entry_id, entrants[0].entry);
    assert.ok(Number(st.headers.get('retry-after')) >= 1, 'Retry-After');

    // Both pages showed the pre-queue: countdown, the commitment's fingerprint (and in full), the entry.
    const pre = [];
    for (const page of pages) {
      await page.waitForFunction(() => window.__pre, null, { timeout: SALE_IN + 5_000 });
      const p = await page.evaluate(() => window.__pre);
      assert.equal(p.fingerprint, before.seed_commitment.slice(0, 16));
      assert.equal(p.title, before.seed_commitment);
      assert.equal(p.full, before.seed_commitment);
      assert.match(p.entry, HEX16);
      assert.match(p.fairness, /joining earlier gives no advantage/);
      assert.equal(p.stats, false, 'no place in line is shown before the draw');
      pre.push(p);
    }
    const notYet = await pages[1].evaluate(() => window.__notYet ?? null);
    if (notYet) assert.match(notYet, /The pre-queue opens/);

    // The opening: everyone in the pre-queue gets a drawn position. Find a browser buyer who waits
    // (the one admitted, if any, has moved on to the seats).
    let waiting = null;
    for (let i = 0; i < 80 && !waiting; i++) {
      for (const page of pages) {
        const s = await page.evaluate(() => ({
          path: location.pathname,
          pos: Number(document.querySelector('[data-testid="queue-position"]')?.textContent),
          seed: document.querySelector('[data-testid="draw-seed"]')?.textContent ?? '',
          entry: document.querySelector('[data-testid="queue-entry"]')?.textContent ?? '',
          canVerify: document.querySelector('[data-testid="verify-draw"]')?.disabled === false,
        })).catch(() => null);
        if (s && s.path.endsWith('/queue') && s.pos >= 2 && HEX64.test(s.seed) && s.canVerify) { waiting = { page, ...s }; break; }
      }
      if (!waiting) await sleep(500);
    }
    assert.ok(waiting, 'a browser buyer waits with a drawn position and the revealed seed');
    assert.ok(Date.now() >= Date.parse(saleOpensAt) - 1500, 'the draw happened at the opening, not before');

    // The revealed seed is the committed one, the list is final, and the server's positions are
    // the shuffle's.
    const after = await must('GET', `/v1/performances/${pid}/queue/fairness`);
    assert.equal(after.seed_commitment, before.seed_commitment);
    assert.equal(after.seed, waiting.seed);
    assert.equal(createHash('sha256').update(Buffer.from(after.seed, 'hex')).digest('hex'), before.seed_commitment);
    assert.equal(after.pre_queue_size, 5);
    const list = await must('GET', `/v1/performances/${pid}/queue/fairness/entries`);
    assert.equal(list.complete, true);
    assert.deepEqual(list.entries, [...pre.map((p) => p.entry), ...entrants.map((e) => e.entry)].sort());
    const order = drawnOrder(after.seed, list.entries);
    for (const e of entrants) {
      const s = await must('GET', `/v1/performances/${pid}/queue/status`, { ticket: e.ticket });
      assert.equal(s.entry_id, e.entry);
      assert.equal(s.position, order.indexOf(e.entry) + 1, `entry ${e.entry}`);
    }
    assert.equal(waiting.pos, order.indexOf(waiting.entry) + 1, 'the page shows the drawn position');
    // A join after the opening lines up behind everyone drawn.
    const lateJoin = await must('POST', `/v1/performances/${pid}/queue`, { token: late.token });
    assert.equal(lateJoin.position, 6);

    // "Verify the draw": recomputed in the browser, the position is the server's.
    await waiting.page.getByTestId('verify-draw').click();
    await waiting.page.getByTestId('draw-verified').waitFor();
    const verified = await waiting.page.getByTestId('draw-verified').textContent();
    assert.equal(verified, `Verified: your entry ${waiting.entry} is position ${waiting.pos}, as the server says.`);
    await axe(waiting.page, 'waiting room after the draw');
    for (const page of pages) assert.deepEqual(page.jsErrors.filter((e) => !/Failed to load resource|net::/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('operator console: an optional pre-queue time, typed in KST, before the sale opens', { timeout: 90_000 }, async () => {
  const sale = await createSale({ open: false });
  const browser = await launch();
  try {
    const { page } = await newPage(browser, { viewport: { width: 1280, height: 1000 }, timezoneId: 'Europe/London' });
    await asAdmin(page);
    await page.goto('/admin/new');
    const pf = page.getByTestId('perf-form');
    await pf.getByLabel('Event').selectOption(sale.event.id);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="perf-form"] input[data-grade]').length === 2);
    await pf.getByLabel(/Starts at.*KST/).fill('2027-05-01T19:30');
    await pf.getByLabel(/Sale opens at.*KST/).fill('2027-04-01T20:00');
    // After the sale opens: refused in the form, nothing sent.
    await pf.getByLabel(/Pre-queue opens at/).fill('2027-04-01T20:30');
    await pf.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('perf-out').getByText('The pre-queue must open before the sale opens.').waitFor();
    await pf.getByLabel(/Pre-queue opens at/).fill('2027-04-01T19:00');
    await pf.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('perf-created').waitFor();
    const pid = (await page.getByTestId('perf-created').textContent()).match(/prf_[\w-]+/)[0];
    const perf = await must('GET', `/v1/performances/${pid}`);
    assert.equal(perf.sale_opens_at, '2027-04-01T11:00:00Z');
    assert.equal(perf.queue_opens_at, '2027-04-01T10:00:00Z');
  } finally {
    await browser.close();
  }
});

const digits = () => /^\d+$/.test(document.querySelector('[data-testid="queue-position"]')?.textContent ?? '');
const storedTicket = (page, pid) => page.evaluate((p) => JSON.parse(localStorage.getItem(`tk.queue.${p}`) ?? 'null')?.ticket ?? null, pid);
const focused = (page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);

test('leaving the queue: confirmed first, the place is given up, and joining again starts at the back', { timeout: 90_000 }, async () => {
  const sale = await createSale();
  // Paused: joins are accepted and nobody is admitted, so the buyer stays in line.
  await must('PATCH', `/v1/admin/performances/${sale.perf}`, { token: ADMIN, body: { status: 'paused' } });
  const other = await account();
  await must('POST', `/v1/performances/${sale.perf}/queue`, { token: other.token });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    const leaves = [];
    page.on('request', (r) => {
      if (r.method() === 'DELETE' && new URL(r.url()).pathname === `/v1/performances/${sale.perf}/queue`) leaves.push(r.headers()['queue-ticket']);
    });
    await useSession(page, acc);
    await page.goto(`/p/${sale.perf}/queue`);
    await page.waitForFunction(digits);
    const first = Number(await page.getByTestId('queue-position').textContent());
    const ticket = await storedTicket(page, sale.perf);
    assert.ok(ticket);

    // A confirmation first, its focus on staying; Escape keeps the place and sends nothing.
    const leave = page.getByRole('button', { name: 'Leave the queue' });
    await leave.click();
    const dialog = page.getByTestId('leave-dialog');
    await dialog.waitFor();
    assert.equal(await focused(page), 'leave-cancel');
    assert.match(await dialog.textContent(), /cannot be undone/);
    await axe(page, 'leave the queue: confirmation');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.deepEqual(leaves, []);
    assert.equal((await must('GET', `/v1/performances/${sale.perf}/queue/status`, { ticket })).state, 'waiting');

    // By keyboard only: open it, Shift+Tab from "Stay in line" to "Yes, leave", Enter.
    await leave.focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(page), 'leave-confirm');
    await page.keyboard.press('Enter');
    const left = page.getByTestId('queue-left');
    await left.waitFor();
    assert.match(await left.textContent(), /You left the queue/);
    assert.ok(await left.evaluate((e) => !!e.closest('[aria-live="polite"]')), 'announced in a live region');
    assert.deepEqual(leaves, [ticket], 'one DELETE, with the waiting-room ticket');
    assert.equal(await storedTicket(page, sale.perf), null, 'the stored ticket is forgotten');
    assert.equal(await leave.isVisible(), false);
    assert.equal(await page.getByTestId('queue-position').isVisible(), false, 'no place shown any more');
    assert.equal(await focused(page), 'queue-join-again');
    // The server agrees: the old ticket polls as abandoned, and leaving twice is still 204.
    assert.equal((await must('GET', `/v1/performances/${sale.perf}/queue/status`, { ticket })).state, 'abandoned');
    assert.equal((await api('DELETE', `/v1/performances/${sale.perf}/queue`, { ticket })).status, 204);

    // Joining again: a new ticket and a place behind the old one.
    await page.getByRole('button', { name: 'Join again' }).click();
    await page.waitForFunction(({ pid, old }) => {
      const t = JSON.parse(localStorage.getItem(`tk.queue.${pid}`) ?? 'null')?.ticket;
      return t && t !== old && /^\d+$/.test(document.querySelector('[data-testid="queue-position"]')?.textContent ?? '');
    }, { pid: sale.perf, old: ticket });
    assert.ok(Number(await page.getByTestId('queue-position').textContent()) > first, 'at the back, behind the old place');
    await leave.waitFor();
    assert.deepEqual(page.jsErrors.filter((e) => !/Failed to load resource|net::/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('presence: a tab closed for longer than the timeout loses its place, is told why, and can join again', { timeout: 150_000 }, async () => {
  const TIMEOUT_S = 10;
  const sale = await createSale({ queue: { presence_timeout_seconds: TIMEOUT_S } });
  const statusUrl = `/v1/performances/${sale.perf}/queue/status`;
  // Paused: nobody's turn comes while the buyer's tab is closed.
  await must('PATCH', `/v1/admin/performances/${sale.perf}`, { token: ADMIN, body: { status: 'paused' } });
  const [acc, behind] = await Promise.all([account(), account()]);
  const browser = await launch();
  try {
    const { context, page } = await newPage(browser);
    await useSession(page, acc);
    await page.goto(`/p/${sale.perf}/queue`);
    await page.waitForFunction(digits);
    // The page says it must stay open, and how long it may go without checking in.
    const note = page.getByTestId('queue-presence');
    await note.waitFor();
    assert.match(await note.textContent(), /Keep this page open.*10 s/);
    const ticket = await storedTicket(page, sale.perf);
    assert.ok(ticket);
    await page.close();   // the tab is closed; the ticket stays in this browser's storage
    const closedAt = Date.now();

    // Someone behind keeps polling as an open page does (Retry-After is at most a third of the
    // timeout), for twice the timeout; then the sale resumes and goes on until they are admitted:
    // the closed tab's turn came first and was skipped.
    const them = await must('POST', `/v1/performances/${sale.perf}/queue`, { token: behind.token });
    let resumed = false, admitted = false;
    for (let i = 0; i < 90 && !admitted; i++) {
      const st = await api('GET', statusUrl, { ticket: them.ticket });
      assert.equal(st.status, 200, JSON.stringify(st.data));
      admitted = st.data.state === 'admitted';
      if (st.data.state === 'waiting') {
        const ra = Number(st.headers.get('retry-after'));
        assert.ok(ra >= 1 && ra <= Math.ceil(TIMEOUT_S / 3), `Retry-After ${ra} within a third of the timeout`);
      }
      if (!resumed && Date.now() - closedAt > 2 * TIMEOUT_S * 1000) {
        await must('PATCH', `/v1/admin/performances/${sale.perf}`, { token: ADMIN, body: { status: 'on_sale' } });
        resumed = true;
      }
      if (!admitted) await sleep(1000);
    }
    assert.ok(admitted, 'the buyer behind was admitted');
    // Paused again, so the place taken next waits and can be compared.
    await must('PATCH', `/v1/admin/performances/${sale.perf}`, { token: ADMIN, body: { status: 'paused' } });

    // The buyer opens the waiting room again: the place is gone, and the page says why.
    const again = await context.newPage();
    const errors = [];
    again.on('pageerror', (e) => errors.push(String(e)));
    again.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await again.goto(`/p/${sale.perf}/queue`);
    const gone = again.getByTestId('queue-abandoned');
    await gone.waitFor();
    assert.match(await gone.textContent(), /did not check in with the waiting room for more than 10 s/);
    assert.ok(await gone.evaluate((e) => !!e.closest('[aria-live="polite"]')), 'announced in a live region');
    assert.equal(await storedTicket(again, sale.perf), null, 'the stored ticket is forgotten');
    assert.equal(await again.getByTestId('leave-queue').isVisible(), false);
    assert.equal(await again.getByTestId('queue-position').isVisible(), false);
    assert.equal((await must('GET', statusUrl, { ticket })).state, 'abandoned');
    await axe(again, 'waiting room: place given up');

    // Joining again: a new ticket, at the back (behind the buyer who was admitted).
    await again.getByRole('button', { name: 'Join again' }).click();
    await again.waitForFunction(({ pid, old }) => {
      const t = JSON.parse(localStorage.getItem(`tk.queue.${pid}`) ?? 'null')?.ticket;
      return t && t !== old && /^\d+$/.test(document.querySelector('[data-testid="queue-position"]')?.textContent ?? '');
    }, { pid: sale.perf, old: ticket });
    assert.ok(Number(await again.getByTestId('queue-position').textContent()) > them.position, 'behind the buyer who kept polling');
    await again.getByTestId('queue-presence').waitFor();
    assert.deepEqual(errors.filter((e) => !/Failed to load resource|net::/.test(e)), []);
  } finally {
    await browser.close();
  }
});

// The operator's form for a new performance of `sale`'s event, its price grades loaded.
async function newPerformanceForm(browser, sale) {
  const { page } = await newPage(browser, { viewport: { width: 1280, height: 1000 } });
  await asAdmin(page);
  await page.goto('/admin/new');
  const pf = page.getByTestId('perf-form');
  await pf.getByLabel('Event').selectOption(sale.event.id);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="perf-form"] input[data-grade]').length === 2);
  return { page, pf };
}

test('operator console: the presence timeout is 0 (off) or 10 to 3600 s, on creation and on the dashboard', { timeout: 90_000 }, async () => {
  const sale = await createSale({ open: false });
  const browser = await launch();
  try {
    const { page, pf } = await newPerformanceForm(browser, sale);
    assert.equal(await pf.getByLabel(/Presence timeout/).inputValue(), '0', 'off unless set');
    await pf.getByLabel(/Presence timeout/).fill('5');
    await pf.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('perf-out').getByText('The presence timeout is 0 (off) or 10 to 3600 seconds.').waitFor();
    await pf.getByLabel(/Presence timeout/).fill('45');
    await pf.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('perf-created').waitFor();
    const pid = (await page.getByTestId('perf-created').textContent()).match(/prf_[\w-]+/)[0];
    assert.equal((await must('GET', `/v1/admin/performances/${pid}`, { token: ADMIN })).queue.presence_timeout_seconds, 45);
    // Buyers' pages learn it from the public performance.
    assert.equal((await must('GET', `/v1/performances/${pid}`)).queue.presence_timeout_seconds, 45);

    await page.goto(`/admin/p/${pid}`);
    const qf = page.getByTestId('queue-form');
    await qf.waitFor();
    assert.equal(await qf.getByLabel(/Presence timeout/).inputValue(), '45');
    await qf.getByLabel(/Presence timeout/).fill('0');
    await qf.getByRole('button', { name: 'Apply' }).click();
    await page.getByTestId('dash-updated').waitFor();
    assert.equal((await must('GET', `/v1/admin/performances/${pid}`, { token: ADMIN })).queue.presence_timeout_seconds, 0);
  } finally {
    await browser.close();
  }
});

test('operator console: the idle timeout is 0 (off) or 30 to 3600 s, on creation and on the dashboard', { timeout: 90_000 }, async () => {
  const sale = await createSale({ open: false });
  const browser = await launch();
  try {
    const { page, pf } = await newPerformanceForm(browser, sale);
    const idle = pf.getByLabel(/Idle timeout/);
    assert.equal(await idle.inputValue(), '0', 'off unless set');
    assert.match(await idle.evaluate((e) => document.getElementById(e.getAttribute('aria-describedby'))?.textContent ?? ''),
      /stops using the sale pages for this long gives the place back/);
    await idle.fill('29');
    await pf.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('perf-out').getByText('The idle timeout is 0 (off) or 30 to 3600 seconds.').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'idle_timeout_seconds', 'the field to correct has the focus');
    await idle.fill('60');
    await pf.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('perf-created').waitFor();
    const pid = (await page.getByTestId('perf-created').textContent()).match(/prf_[\w-]+/)[0];
    const made = (await must('GET', `/v1/admin/performances/${pid}`, { token: ADMIN })).queue;
    assert.equal(made.idle_timeout_seconds, 60);
    assert.equal(made.presence_timeout_seconds, 0, 'the presence timeout is a setting of its own');
    // The buyer app learns it from the public performance (its payment page keeps the place in use).
    assert.equal((await must('GET', `/v1/performances/${pid}`)).queue.idle_timeout_seconds, 60);

    await page.goto(`/admin/p/${pid}`);
    const qf = page.getByTestId('queue-form');
    await qf.waitFor();
    const dashIdle = qf.getByLabel(/Idle timeout/);
    assert.equal(await dashIdle.inputValue(), '60');
    await dashIdle.fill('10');
    await qf.getByRole('button', { name: 'Apply' }).click();
    await page.getByTestId('dash-out').getByText('The idle timeout is 0 (off) or 30 to 3600 seconds.').waitFor();
    assert.equal((await must('GET', `/v1/admin/performances/${pid}`, { token: ADMIN })).queue.idle_timeout_seconds, 60, 'nothing sent');
    await dashIdle.fill('0');
    await qf.getByRole('button', { name: 'Apply' }).click();
    await page.getByTestId('dash-updated').waitFor();
    assert.equal((await must('GET', `/v1/admin/performances/${pid}`, { token: ADMIN })).queue.idle_timeout_seconds, 0);
    assert.equal(await dashIdle.inputValue(), '0');
  } finally {
    await browser.close();
  }
});

test('idle timeout: the payment page keeps the buyer\'s place in use, so after a declined card other seats can still be held', { timeout: 150_000 }, async () => {
  const TIMEOUT_S = 30;   // the shortest allowed: the payment page uses the access every 10 s
  const sale = await createSale({ queue: { idle_timeout_seconds: TIMEOUT_S } });
  const layout = await must('GET', `/v1/venues/${sale.venue.id}/layout`);
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await page.clock.install();
    await toSeats(page, sale.perf, acc);
    const { access, ticket } = await page.evaluate((p) => ({
      access: JSON.parse(localStorage.getItem(`tk.access.${p}`)).token,
      ticket: JSON.parse(localStorage.getItem(`tk.queue.${p}`)).ticket }), sale.perf);
    // The seat map of this small venue reads .../seats; only the payment page reads .../sections.
    const keepAlives = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === `/v1/performances/${sale.perf}/sections`) keepAlives.push({ at: Date.now(), access: r.headers()['access-token'] });
    });
    await page.getByTestId('seat-A-1-1').click();
    await page.getByTestId('hold-button').click();
    await page.getByTestId('checkout-button').click();
    await page.waitForURL(/\/orders\/ord_/);
    await page.getByTestId('pay-button').waitFor();
    const opened = Date.now();
    await page.getByLabel('Card number').fill('tok_declined');
    await page.getByTestId('pay-button').click();
    assert.match(await page.getByTestId('pay-error').textContent(), /declined/);

    // The buyer reads, finds another card: longer than the idle timeout (and the server's 2 s of
    // slack) since the seat map last used the access. The place is still theirs, and holds more seats.
    await sleep(opened + (TIMEOUT_S + 10) * 1000 - Date.now());
    assert.equal((await must('GET', `/v1/performances/${sale.perf}/queue/status`, { ticket })).state, 'admitted', 'the place was kept');
    const other = layout.sections[0].rows[1].seats[0].id;
    const more = await api('POST', `/v1/performances/${sale.perf}/holds`, { token: acc.token, access, body: { seat_ids: [other] } });
    assert.equal(more.status, 201, JSON.stringify(more.data));
    assert.ok(keepAlives.length >= 3, `keep-alives at ${keepAlives.map((k) => k.at - opened).join(', ')} ms`);
    assert.ok(keepAlives.every((k) => k.access === access), 'each with the access token');
    // A third of the timeout apart (10 s); seen from here, on a busy machine, never under half of it.
    for (let i = 1; i < keepAlives.length; i++) {
      const gap = keepAlives[i].at - keepAlives[i - 1].at;
      assert.ok(gap >= 5000, `a third of the timeout apart, not the seat map's 2 s: ${gap} ms`);
    }

    // Paid: the place has done its work, the keep-alive stops.
    await page.getByLabel('Card number').fill('tok_ok');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('confirmation').waitFor();
    const sent = keepAlives.length;
    await page.clock.fastForward('00:30');
    await sleep(1000);
    assert.equal(keepAlives.length, sent, 'no keep-alive after the payment');
    assert.deepEqual(page.jsErrors.filter((e) => !/Failed to load resource|net::/.test(e)), []);
  } finally {
    await browser.close();
  }
});
