// What a new user met when trying the buyer app on a phone in Korean and the operator console on a
// desktop, one scenario per finding: each fails when its cause comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, PHONE, account, api, apiBuy, asAdmin, createSale, launch, must, newPage, toSeats, uid, useSession } from './lib.mjs';

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
