// A buyer goes from the event list through the waiting room to a paid ticket with a QR code; the
// first payment request's answer is lost on the way back (connection reset), the app retries with
// the same Idempotency-Key, and the provider's ledger shows exactly one charge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, createSale, launch, must, newPage, psql, shot, uid } from './lib.mjs';

test('buyer: event list -> waiting room -> seats -> hold -> pay (retried once) -> QR tickets', { timeout: 180_000 }, async () => {
  const title = `Seoul Philharmonic ${uid()}`;
  const sale = await createSale({ title, rows: 3, perRow: 8 });
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await page.goto('/');
    const card = page.locator('li.card', { hasText: title });
    await card.getByRole('link', { name: 'Get tickets' }).click();

    // Not logged in: the log-in page, then sign up, then back to the waiting room by itself.
    await page.waitForURL(/\/login\?next=/);
    await page.getByRole('link', { name: /Sign up/ }).click();
    const email = `ui-${uid()}@example.com`;
    await page.getByLabel('Name').fill('Kim Minji');
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL(new RegExp(`/p/${sale.perf}/(queue|seats)`));
    // The waiting room moves on by itself once admitted.
    await page.waitForURL(`**/p/${sale.perf}/seats`, { timeout: 30_000 });

    const map = page.getByTestId('seat-map');
    await map.waitFor();
    const seat1 = page.getByTestId('seat-A-1-4');
    const seat2 = page.getByTestId('seat-A-1-5');
    await assert.doesNotReject(seat1.waitFor());
    await page.waitForFunction(() => document.querySelector('[data-testid="seat-A-1-4"]')?.getAttribute('aria-disabled') === 'false');
    // Keyboard: focus a seat and press Space; the second with the mouse.
    await seat1.focus();
    await page.keyboard.press('Space');
    await seat2.click();
    assert.equal(await seat1.getAttribute('aria-checked'), 'true');
    assert.equal(await seat2.getAttribute('aria-checked'), 'true');
    assert.match(await seat1.getAttribute('aria-label'), /Section A, row 1, seat 4, grade R/);
    assert.match(await page.getByTestId('selection-info').textContent(), /Selected: 2 of up to 4/);
    await shot(page, 'seat-map', { fullPage: true });

    await page.getByTestId('hold-button').click();
    const countdown = page.getByTestId('hold-countdown');
    await countdown.waitFor();
    const c1 = await countdown.textContent();
    assert.match(c1, /^[0-9]+:[0-5][0-9]$/);
    await page.waitForFunction((prev) => document.querySelector('[data-testid="hold-countdown"]')?.textContent !== prev, c1);

    // Lose the answer of the first payment request after the server handled it.
    const keys = [];
    let dropped = false;
    await page.route('**/v1/orders/*/payment', async (route) => {
      keys.push(route.request().headers()['idempotency-key']);
      if (!dropped) {
        dropped = true;
        await route.fetch();               // reaches the service: the card is charged
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    await page.getByTestId('checkout-button').click();
    await page.waitForURL(/\/orders\/ord_/);
    const orderId = page.url().split('/orders/')[1];
    await page.getByLabel('Card number').fill('tok_ok');   // the built-in fake provider's approving token
    await page.getByTestId('pay-button').click();
    await page.getByTestId('confirmation').waitFor({ timeout: 30_000 });
    assert.equal(keys.length, 2, 'one retry after the network error');
    assert.equal(keys[0], keys[1], 'the retry reuses the Idempotency-Key');
    assert.ok(keys[0] && keys[0].length <= 64);

    // Two tickets, each with a QR code of its ticket code.
    const tickets = page.getByTestId('ticket');
    assert.equal(await tickets.count(), 2);
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('tk.session')).token);
    const order = await must('GET', `/v1/orders/${orderId}`, { token });
    assert.equal(order.status, 'paid');
    const codes = order.tickets.map((t) => t.code).sort();
    const qrs = page.getByTestId('ticket-qr');
    const shown = [];
    for (let i = 0; i < 2; i++) {
      const q = qrs.nth(i);
      assert.match(await q.getAttribute('src'), /^data:image\/png;base64,/);
      assert.ok(await q.evaluate((img) => img.complete && img.naturalWidth >= 100), 'QR image rendered');
      shown.push(await q.getAttribute('data-code'));
    }
    assert.deepEqual(shown.sort(), codes);
    await shot(page, 'confirmation', { fullPage: true });

    // Exactly one charge for the order, in the provider's ledger.
    if (process.env.TK_PG_URL) {
      assert.equal(psql(`SELECT count(*) FROM provider_charges WHERE order_ref = '${orderId}' AND status = 'charged'`), '1');
    }
    const stats = await must('GET', `/v1/admin/performances/${sale.perf}/stats`, { token: ADMIN });
    assert.equal(stats.seats.sold, 2);

    // "My orders" lists it as paid.
    await page.getByRole('link', { name: 'My orders' }).first().click();
    await page.getByTestId('orders').waitFor();
    assert.match(await page.getByTestId('orders').textContent(), /Paid/);
    assert.deepEqual(page.jsErrors.filter((e) => !/Failed to load resource|ERR_CONNECTION_RESET|net::/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('the interface follows the browser language and switches', { timeout: 60_000 }, async () => {
  const browser = await launch();
  try {
    const { page } = await newPage(browser, { locale: 'ko-KR' });
    await page.goto('/');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), '공연');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ko');
    await page.getByTestId('lang-switch').click();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Events');
    await page.reload();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Events');
    // Deep links are served (SPA fallback) and unknown API paths stay JSON 404s.
    const r = await page.request.get('/v1/nope');
    assert.equal(r.status(), 404);
    assert.equal((await r.json()).error.code, 'not_found');
  } finally {
    await browser.close();
  }
});
