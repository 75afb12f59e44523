// What a new user met when trying the buyer app on a phone in Korean and the operator console on a
// desktop, one scenario per finding: each fails when its cause comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ADMIN, account, api, apiBuy, axe, createSale, launch, must, newPage, sleep, toSeats, uid, useSession } from './lib.mjs';

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

async function asAdmin(page) {
  await page.goto('/admin');
  await page.evaluate((tok) => sessionStorage.setItem('tk.admin', tok), ADMIN);
}

const boxes = (page, sel) => page.$$eval(sel, (els) => els.map((e) => {
  const r = e.getBoundingClientRect();
  return { l: r.left, r: r.right, t: r.top, b: r.bottom, w: r.width, h: r.height };
}));
const overlap = (a, b) => a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.t < b.b - 0.5 && b.t < a.b - 0.5;

test('1. dashboard queue controls keep to their own columns at 1280 px', { timeout: 60_000 }, async () => {
  const sale = await createSale({ open: false });
  const browser = await launch();
  try {
    const { page } = await newPage(browser, { viewport: { width: 1280, height: 900 } });
    await asAdmin(page);
    await page.goto(`/admin/p/${sale.perf}`);
    await page.getByTestId('queue-form').waitFor();
    const fields = await boxes(page, '[data-testid="queue-form"] .field');
    const inputs = await boxes(page, '[data-testid="queue-form"] input');
    const button = (await boxes(page, '[data-testid="queue-form"] button[type="submit"]'))[0];
    assert.equal(inputs.length, 5);   // admit, interval, max active, presence and idle timeouts
    inputs.forEach((inp, i) => assert.ok(inp.r <= fields[i].r + 0.5, `input ${i} wider than its field (${inp.r} > ${fields[i].r})`));
    const parts = [...inputs, button];
    for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
      assert.ok(!overlap(parts[i], parts[j]), `controls ${i} and ${j} overlap`);
    }
  } finally {
    await browser.close();
  }
});

test('2. the seat page counts the seats the account already bought', { timeout: 90_000 }, async () => {
  const sale = await createSale({ rows: 2, perRow: 6, perOrder: 4 });
  const layout = await must('GET', `/v1/venues/${sale.venue.id}/layout`);
  const row1 = layout.sections[0].rows[0].seats;
  const acc = await account();
  await apiBuy(sale.perf, acc, [row1[0].id, row1[1].id]);
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await toSeats(page, sale.perf, acc);
    assert.match(await page.getByTestId('selection-info').textContent(), /of up to 2/);
    for (const n of [3, 4, 5]) await page.getByTestId(`seat-A-1-${n}`).click();
    assert.equal(await page.getByTestId('seat-A-1-3').getAttribute('aria-checked'), 'true');
    assert.equal(await page.getByTestId('seat-A-1-4').getAttribute('aria-checked'), 'true');
    assert.equal(await page.getByTestId('seat-A-1-5').getAttribute('aria-checked'), 'false', 'a third seat is refused');
    await page.getByTestId('seat-limit').waitFor();
    assert.match(await page.getByTestId('seat-owned').textContent(), /2/);
  } finally {
    await browser.close();
  }
});

test('3. a hold that runs out on the payment page says so and leads back to the seats', { timeout: 90_000 }, async () => {
  const sale = await createSale({ holdTtl: 60 });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await page.clock.install();
    await toSeats(page, sale.perf, acc);
    await page.getByTestId('seat-A-1-1').click();
    await page.getByTestId('hold-button').click();
    await page.getByTestId('checkout-button').click();
    await page.waitForURL(/\/orders\/ord_/);
    await page.getByTestId('pay-button').waitFor();
    await page.clock.fastForward('01:05');
    await page.getByTestId('pay-error').waitFor();
    const badge = await page.locator('main .badge').first().textContent();
    assert.doesNotMatch(badge, /Waiting for payment/);
    assert.match(badge, /Expired/);
    await page.getByRole('link', { name: 'Choose seats again' }).click();
    await page.waitForURL(new RegExp(`/p/${sale.perf}/(seats|queue)`));
  } finally {
    await browser.close();
  }
});

test('4. no focus frame around the page content after a reload or a route change', { timeout: 60_000 }, async () => {
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await page.goto('/');
    await page.reload();
    await page.getByRole('heading', { level: 1 }).waitFor();
    const main = () => page.evaluate(() => {
      const m = document.getElementById('main');
      const cs = getComputedStyle(m);
      return { focused: document.activeElement === m, outline: cs.outlineStyle, width: cs.outlineWidth };
    });
    let m = await main();
    assert.ok(m.focused, 'the content gets focus on a new page (screen readers start there)');
    assert.ok(m.outline === 'none' || m.width === '0px', `outline ${m.outline} ${m.width}`);
    await page.keyboard.press('Tab');   // keyboard use turns focus-visible on
    await page.getByRole('link', { name: 'Log in' }).first().click();
    await page.getByRole('heading', { level: 1 }).waitFor();
    m = await main();
    assert.ok(m.focused);
    assert.ok(m.outline === 'none' || m.width === '0px', `outline after a route change ${m.outline} ${m.width}`);
  } finally {
    await browser.close();
  }
});

test('5. Korean keeps words whole and one font draws Hangul, Latin and digits', { timeout: 60_000 }, async () => {
  const sale = await createSale({ title: `서울시향 ${uid()}` });
  const browser = await launch();
  try {
    const { page } = await newPage(browser, { locale: 'ko-KR' });
    await page.goto('/');
    const when = page.locator(`li.perf[data-perf="${sale.perf}"] strong`).first();
    await when.waitFor();
    assert.match(await when.textContent(), /[가-힣].*[0-9]|[0-9].*[가-힣]/);
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).wordBreak), 'keep-all');
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: `li.perf[data-perf="${sale.perf}"] strong` });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    assert.equal(fonts.length, 1, `one font for the line, got ${fonts.map((f) => f.familyName).join(', ')}`);
  } finally {
    await browser.close();
  }
});

test('6. every step names the show, venue and date; my orders shows them with the order number', { timeout: 120_000 }, async () => {
  const title = `Seoul Philharmonic ${uid()}`;
  const venueName = `Lotte Concert Hall ${uid()}`;
  const sale = await createSale({ title, venueName });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await useSession(page, acc);
    const ctx = async (step) => {
      const el = page.getByTestId('event-context');
      await el.waitFor();
      const text = await el.textContent();
      assert.ok(text.includes(title), `${step}: title in "${text}"`);
      assert.ok(text.includes(venueName), `${step}: venue in "${text}"`);
      assert.match(text, /KST/, `${step}: date and time in KST`);
    };
    // The waiting room (it moves on by itself once admitted), then the seat map.
    await page.goto(`/p/${sale.perf}/queue`);
    await ctx('waiting room');
    await page.waitForURL(`**/p/${sale.perf}/seats`, { timeout: 30_000 });
    await ctx('seat map');
    await page.waitForFunction(() => document.querySelector('.seat[aria-disabled="false"]') !== null);
    await page.getByTestId('seat-A-1-1').click();
    await page.getByTestId('hold-button').click();
    await page.getByTestId('checkout-button').click();
    await page.waitForURL(/\/orders\/ord_/);
    const oid = page.url().split('/orders/')[1];
    await ctx('payment');
    assert.ok((await page.getByTestId('order-number').textContent()).includes(oid));
    await page.getByLabel('Card number').fill('tok_ok');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('confirmation').waitFor();
    await ctx('confirmation');
    assert.ok((await page.getByTestId('order-number').textContent()).includes(oid));
    await page.goto('/me/orders');
    const orders = page.getByTestId('orders');
    await orders.waitFor();
    const item = orders.locator('li', { hasText: oid });
    const text = await item.textContent();
    assert.ok(text.includes(title), `my orders: title in "${text}"`);
    assert.ok(text.includes(venueName), 'my orders: venue');
    assert.match(text, /KST/, 'my orders: date and time');
  } finally {
    await browser.close();
  }
});

test('7. the sign-up page does not ask to log in', { timeout: 60_000 }, async () => {
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await page.goto('/login?next=%2Fme%2Forders');
    await page.getByRole('link', { name: /Sign up/ }).click();
    await page.waitForURL(/\/signup/);
    const text = await page.locator('main').textContent();
    assert.match(text, /Create an account/);
    assert.doesNotMatch(text, /log in to continue/i);
    assert.match(text, /sign up to continue/i);
  } finally {
    await browser.close();
  }
});

test('8. on a phone a 20-seat row has 24 px targets and the map zooms and pans', { timeout: 90_000 }, async () => {
  const sale = await createSale({ rows: 2, perRow: 20 });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser, PHONE);
    await toSeats(page, sale.perf, acc);
    const seat = page.getByTestId('seat-A-1-10');
    const b1 = await seat.boundingBox();
    assert.ok(b1.width >= 24 && b1.height >= 24, `seat ${b1.width}x${b1.height} px`);
    await page.getByTestId('zoom-in').click();
    const b2 = await seat.boundingBox();
    assert.ok(b2.width > b1.width * 1.2, `zoomed ${b1.width} -> ${b2.width}`);
    const box = page.getByTestId('seatmap-box');
    const before = await box.evaluate((e) => e.scrollLeft);
    await box.evaluate((e) => e.scrollBy(200, 0));
    assert.ok((await box.evaluate((e) => e.scrollLeft)) > before, 'the zoomed map pans');
    await page.getByTestId('zoom-out').click();
    const b3 = await seat.boundingBox();
    assert.ok(Math.abs(b3.width - b1.width) < 1);
  } finally {
    await browser.close();
  }
});

test('9. the card field starts empty and no test-provider hint is shown to buyers', { timeout: 90_000 }, async () => {
  const sale = await createSale();
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await toSeats(page, sale.perf, acc);
    await page.getByTestId('seat-A-1-1').click();
    await page.getByTestId('hold-button').click();
    await page.getByTestId('checkout-button').click();
    await page.getByTestId('pay-button').waitFor();
    assert.equal(await page.locator('input[name="card_token"]').inputValue(), '');
    assert.doesNotMatch(await page.locator('main').textContent(), /tok_ok|test provider/i);
  } finally {
    await browser.close();
  }
});

test('10. the hold countdown warns in words and to screen readers in the last minute', { timeout: 90_000 }, async () => {
  const sale = await createSale({ holdTtl: 120 });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await page.clock.install();
    await toSeats(page, sale.perf, acc);
    await page.getByTestId('seat-A-1-1').click();
    await page.getByTestId('hold-button').click();
    await page.getByTestId('hold-countdown').waitFor();
    const quiet = page.getByTestId('hold-warning');
    if (await quiet.count()) assert.equal((await quiet.textContent()).trim(), '', 'no warning with minutes left');
    await page.clock.fastForward('01:10');   // 50 s left
    const warn = page.getByTestId('hold-warning');
    await page.waitForFunction(() => /minute/.test(document.querySelector('[data-testid="hold-warning"]')?.textContent ?? ''));
    assert.ok(await warn.evaluate((e) => !!e.closest('[aria-live="polite"],[aria-live="assertive"],[role="status"],[role="alert"]')),
      'the warning is in a live region');
    await page.clock.fastForward('00:40');   // 10 s left
    await page.waitForFunction(() => /seconds/.test(document.querySelector('[data-testid="hold-warning"]')?.textContent ?? ''));
    // The payment page warns the same way.
    await page.getByTestId('checkout-button').click();
    await page.waitForURL(/\/orders\/ord_/);
    await page.waitForFunction(() => /seconds/.test(document.querySelector('[data-testid="pay-warning"]')?.textContent ?? ''));
  } finally {
    await browser.close();
  }
});

test('11. arrow keys move between seats and a few Tabs reach the hold button', { timeout: 90_000 }, async () => {
  const sale = await createSale({ rows: 3, perRow: 8 });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await toSeats(page, sale.perf, acc);
    const active = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
    await page.getByTestId('seat-A-1-1').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await active(), 'seat-A-1-2');
    await page.keyboard.press('ArrowDown');
    assert.equal(await active(), 'seat-A-2-2');
    await page.keyboard.press('End');
    assert.equal(await active(), 'seat-A-2-8');
    await page.keyboard.press('Space');
    assert.equal(await page.getByTestId('seat-A-2-8').getAttribute('aria-checked'), 'true');
    let presses = 0;
    while ((await active()) !== 'hold-button' && presses < 63) { await page.keyboard.press('Tab'); presses++; }
    assert.ok(presses <= 6, `${presses} Tab presses from the seats to the hold button`);
  } finally {
    await browser.close();
  }
});

test('12. operator console: pick venue and event, KST times, seconds, event on the dashboard, local chart times', { timeout: 120_000 }, async () => {
  const title = `Jazz Night ${uid()}`;
  const browser = await launch();
  try {
    // The operator's laptop is in New York; the audience and the venue are in Seoul.
    const { page } = await newPage(browser, { viewport: { width: 1280, height: 1000 }, timezoneId: 'America/New_York' });
    await asAdmin(page);
    await page.goto('/admin/new');
    const venueName = `Blue Square ${uid()}`;
    const venue = page.getByTestId('venue-form');
    await venue.getByLabel('Venue name').fill(venueName);
    await venue.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('venue-created').waitFor();
    const ev = page.getByTestId('event-form');
    await ev.getByLabel('Title').fill(title);
    assert.equal(await ev.getByLabel('Venue').evaluate((e) => e.tagName), 'SELECT');
    assert.match(await ev.getByLabel('Venue').evaluate((e) => e.selectedOptions[0].textContent), new RegExp(venueName));
    await ev.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('event-created').waitFor();
    const pf = page.getByTestId('perf-form');
    assert.equal(await pf.getByLabel('Event').evaluate((e) => e.tagName), 'SELECT');
    assert.match(await pf.getByLabel('Event').evaluate((e) => e.selectedOptions[0].textContent), new RegExp(title));
    await pf.getByLabel(/Starts at.*KST/).fill('2027-05-01T19:30');
    await pf.getByLabel(/Sale opens at.*KST/).fill('2027-04-01T20:00');
    await pf.getByLabel('Interval (s)').fill('1.5');
    await pf.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('perf-created').waitFor();
    await page.getByTestId('open-dashboard').click();
    await page.waitForURL(/\/admin\/p\/prf_/);
    const pid = page.url().split('/admin/p/')[1];
    const perf = await must('GET', `/v1/admin/performances/${pid}`, { token: ADMIN });
    assert.equal(perf.starts_at, '2027-05-01T10:30:00Z');
    assert.equal(perf.sale_opens_at, '2027-04-01T11:00:00Z');
    assert.equal(perf.queue.interval_ms, 1500);

    // The dashboard names the event and shows its times in KST; the chart axis is not US-style.
    const head = page.getByTestId('event-context');
    await head.waitFor();
    assert.ok((await head.textContent()).includes(title));
    assert.match(await head.textContent(), /19:30.*KST/);
    assert.equal(await page.getByTestId('queue-form').getByLabel('Interval (s)').inputValue(), '1.5');
    await page.waitForFunction(() => Number(document.querySelector('.charts')?.getAttribute('data-points')) >= 3);
    // The labels drawn on the time axis (a canvas) are mirrored on the chart for tests and tools.
    await page.waitForFunction(() => document.querySelector('[data-testid="chart-0"]')?.getAttribute('data-x-ticks'));
    const ticks = JSON.parse(await page.getByTestId('chart-0').getAttribute('data-x-ticks'));
    assert.ok(ticks.length > 0);
    for (const x of ticks) assert.match(x, /^\d{2}:\d{2}(:\d{2})?$/, `axis label "${x}"`);
  } finally {
    await browser.close();
  }
});

test('12b. the dashboard corrects a performance\'s dates and sale settings (PATCH)', { timeout: 90_000 }, async () => {
  const sale = await createSale({ open: false, title: `Correction ${uid()}` });
  const browser = await launch();
  try {
    const { page } = await newPage(browser, { viewport: { width: 1280, height: 1000 }, timezoneId: 'Europe/Berlin' });
    await asAdmin(page);
    await page.goto(`/admin/p/${sale.perf}`);
    const f = page.getByTestId('sale-form');
    await f.waitFor();
    await f.getByLabel(/Starts at/).fill('2027-06-12T18:00');
    await f.getByLabel(/Sale opens at/).fill('2027-05-20T10:00');
    await f.getByLabel('Max seats per order').fill('2');
    await f.getByLabel('Max seats per account').fill('6');
    await f.getByLabel('Hold time (s)').fill('420');
    await f.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('dash-updated').waitFor();
    const p = await must('GET', `/v1/admin/performances/${sale.perf}`, { token: ADMIN });
    assert.equal(p.starts_at, '2027-06-12T09:00:00Z');
    assert.equal(p.sale_opens_at, '2027-05-20T01:00:00Z');
    assert.deepEqual([p.max_seats_per_order, p.max_seats_per_account, p.hold_ttl_seconds], [2, 6, 420]);
    assert.equal(p.status, 'scheduled');
    assert.match(await page.getByTestId('event-context').textContent(), /12 Jun 2027, 18:00 KST/);
    // The public view follows at once.
    assert.equal((await must('GET', `/v1/performances/${sale.perf}`)).starts_at, '2027-06-12T09:00:00Z');

    // Bad changes are refused whole and change nothing.
    const bad = [
      [{ sale_opens_at: '2027-07-01T00:00:00Z' }, 400, 'invalid_field', 'sale_opens_at'],
      [{ max_seats_per_order: 0 }, 422, 'out_of_range', 'max_seats_per_order'],
      [{ hold_ttl_seconds: 3601, starts_at: '2027-08-01T00:00:00Z' }, 422, 'out_of_range', 'hold_ttl_seconds'],
      [{ starts_at: 'next friday' }, 400, 'invalid_field', 'starts_at'],
      [{ max_seats_per_account: 'six' }, 400, 'invalid_field', 'max_seats_per_account'],
    ];
    for (const [body, status, code, field] of bad) {
      const r = await api('PATCH', `/v1/admin/performances/${sale.perf}`, { token: ADMIN, body });
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.data.error.code, code, JSON.stringify(body));
      assert.equal(r.data.error.details?.field, field, JSON.stringify(body));
    }
    const range = await api('PATCH', `/v1/admin/performances/${sale.perf}`, { token: ADMIN, body: { max_seats_per_order: 21 } });
    assert.equal(range.data.error.details?.reason, '1..20');
    assert.deepEqual(await must('GET', `/v1/admin/performances/${sale.perf}`, { token: ADMIN }), p);
    // On the dashboard the error is shown in words.
    await f.getByLabel(/Sale opens at/).fill('2027-07-01T10:00');
    await f.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('error').waitFor();
  } finally {
    await browser.close();
  }
});

test('seat map: price and label on hover and focus, chosen seats with prices; the buyer\'s own held seats unlike selected ones', { timeout: 90_000 }, async () => {
  const sale = await createSale({ rows: 2, perRow: 6 });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await toSeats(page, sale.perf, acc);
    const info = page.getByTestId('seat-info');
    await page.getByTestId('seat-A-1-3').hover();
    assert.match(await info.textContent(), /Section A, row 1, seat 3, grade R, ₩150,000, available/);
    await page.getByTestId('seat-A-2-2').focus();
    assert.match(await info.textContent(), /row 2, seat 2, grade S, ₩90,000/);
    await page.getByTestId('seat-A-1-3').click();
    await page.getByTestId('seat-A-2-2').click();
    // The panel lists each chosen seat with its price.
    assert.deepEqual(await page.getByTestId('selected-seats').locator('li').allTextContents(),
      ['A · row 1 · seat 3: ₩150,000', 'A · row 2 · seat 2: ₩90,000']);
    await page.getByTestId('seat-A-2-2').click();
    await page.getByTestId('hold-button').click();
    await page.getByTestId('hold-countdown').waitFor();
    const cls = await page.getByTestId('seat-A-1-3').getAttribute('class');
    assert.match(cls, /\bmine\b/);
    assert.doesNotMatch(cls, /\bselected\b/);
    assert.match(await page.getByTestId('seat-A-1-3').getAttribute('aria-label'), /held for you/);
  } finally {
    await browser.close();
  }
});

test('best available: the server chooses adjacent seats in the best grade, or in the grade asked for', { timeout: 90_000 }, async () => {
  const sale = await createSale({ rows: 2, perRow: 6 });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await toSeats(page, sale.perf, acc);
    await page.getByTestId('best-count').selectOption('2');
    await page.getByTestId('best-button').click();
    await page.getByTestId('hold-countdown').waitFor();
    // Row 1 is grade R (the dearer one): its two centre seats.
    for (const id of ['seat-A-1-3', 'seat-A-1-4']) assert.match(await page.getByTestId(id).getAttribute('class'), /\bmine\b/);
    assert.equal(await page.locator('.seat.mine').count(), 2);
    await page.getByTestId('release-button').click();
    await page.getByTestId('best-button').waitFor();
    await page.getByTestId('best-grade').selectOption('S');
    await page.getByTestId('best-button').click();
    await page.getByTestId('hold-countdown').waitFor();
    for (const id of ['seat-A-2-3', 'seat-A-2-4']) assert.match(await page.getByTestId(id).getAttribute('class'), /\bmine\b/);
    assert.deepEqual(page.jsErrors.filter((e) => !/Failed to load resource|net::/.test(e)), []);
  } finally {
    await browser.close();
  }
});

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

test('seat map: a big venue starts with a section overview and shows one section at a time', { timeout: 120_000 }, async () => {
  // 3 sections x 20 rows x 20 seats = 1,200 seats.
  const sections = ['Floor', 'East', 'West'].map((name) => ({ name, rows: Array.from({ length: 20 }, (_, i) => ({ label: String(i + 1), seats: 20, grade: name === 'Floor' ? 'VIP' : 'R' })) }));
  const venue = await must('POST', '/v1/admin/venues', { token: ADMIN, body: { name: `Stadium ${uid()}`, sections } });
  const event = await must('POST', '/v1/admin/events', { token: ADMIN, body: { title: `Stadium show ${uid()}`, venue_id: venue.id } });
  const perf = await must('POST', `/v1/admin/events/${event.id}/performances`, { token: ADMIN, body: {
    starts_at: new Date(Date.now() + 30 * 86400e3).toISOString(), sale_opens_at: new Date(Date.now() - 60e3).toISOString(),
    price_grades: [{ grade: 'VIP', price_cents: 198000, currency: 'KRW' }, { grade: 'R', price_cents: 132000, currency: 'KRW' }],
    queue: { admit_per_interval: 100, interval_ms: 200, max_active: 1000, access_ttl_seconds: 600 } } });
  await must('PATCH', `/v1/admin/performances/${perf.id}`, { token: ADMIN, body: { status: 'on_sale' } });
  const acc = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await useSession(page, acc);
    const seatsRead = [];
    page.on('request', (r) => { if (/\/seats(\?|$)/.test(r.url())) seatsRead.push(new URL(r.url()).search); });
    await page.goto(`/p/${perf.id}/queue`);
    await page.waitForURL(`**/p/${perf.id}/seats`, { timeout: 30_000 });
    const east = page.getByTestId('section-East');
    await east.waitFor();
    await page.waitForFunction(() => /400/.test(document.querySelector('[data-testid="section-East"]')?.textContent ?? ''));
    assert.match(await east.textContent(), /R ₩132,000/);
    assert.equal(await page.locator('.seat').count(), 0, 'no seat map before a section is chosen');
    await east.click();
    await page.waitForFunction(() => document.querySelector('.seat[aria-disabled="false"]') !== null);
    assert.equal(await page.locator('.seat').count(), 400);
    assert.equal(await page.getByTestId('seat-Floor-1-1').count(), 0);
    await page.getByTestId('seat-East-3-5').click();
    assert.equal(await page.getByTestId('seat-East-3-5').getAttribute('aria-checked'), 'true');
    assert.ok(seatsRead.length > 0 && seatsRead.every((q) => q === '?section=East'), `seat reads ${[...new Set(seatsRead)]}`);
    await page.getByTestId('all-sections').click();
    await page.getByTestId('section-West').click();
    await page.getByTestId('seat-West-1-1').click();
    assert.match(await page.getByTestId('selection-info').textContent(), /Selected: 2 of up to 4/);
    await page.getByTestId('hold-button').click();
    await page.getByTestId('hold-countdown').waitFor();
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
