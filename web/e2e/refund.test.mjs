// Refunds from the buyer's order page: the button opens a confirmation dialog (cancel changes
// nothing), confirming requests the refund, the page shows the order refunding then refunded with
// every ticket void, the seats are on sale again, and "my orders" shows it in Korean too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, account, apiBuy, createSale, launch, must, newPage, shot, sleep, useSession } from './lib.mjs';

test('refund: confirm dialog, refunded order, void tickets, seats back on sale', { timeout: 180_000 }, async () => {
  const sale = await createSale({ rows: 1, perRow: 4 });
  const layout = await must('GET', `/v1/venues/${sale.venue.id}/layout`);
  const seats = layout.sections[0].rows[0].seats.map((s) => s.id);
  const acc = await account();
  const placed = await apiBuy(sale.perf, acc, seats.slice(0, 2));
  const perf = await must('GET', `/v1/performances/${sale.perf}`);
  assert.ok(perf.refundable_until, 'performances carry refundable_until');
  assert.equal(Date.parse(perf.refundable_until), Date.parse(perf.starts_at) - 86400e3);

  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await useSession(page, acc);
    await page.goto(`/orders/${placed.id}`);
    await page.getByTestId('confirmation').waitFor();
    assert.equal(await page.getByTestId('order-status').getAttribute('data-status'), 'paid');
    const button = page.getByTestId('refund-button');
    await button.waitFor();

    // Cancel in the dialog: nothing is sent.
    await button.click();
    const dialog = page.getByRole('dialog', { name: 'Refund this order?' });
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /300,000/);
    await shot(page, 'refund-dialog');
    await page.getByTestId('refund-cancel').click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await must('GET', `/v1/orders/${placed.id}`, { token: acc.token })).status, 'paid');

    // Confirm: the refund is requested, the page reloads with the order's new state.
    await button.click();
    await page.getByTestId('refund-confirm').click();
    await page.locator('[data-testid="order-status"][data-status^="refund"]').waitFor();
    // The worker completes it within seconds.
    let order;
    for (let i = 0; i < 50; i++) {
      order = await must('GET', `/v1/orders/${placed.id}`, { token: acc.token });
      if (order.status === 'refunded') break;
      await sleep(200);
    }
    assert.equal(order.status, 'refunded');
    assert.deepEqual(order.tickets.map((t) => t.status), ['void', 'void']);
    await page.reload();
    await page.locator('[data-testid="order-status"][data-status="refunded"]').waitFor();
    assert.equal(await page.getByTestId('refund-button').count(), 0);
    const statuses = page.getByTestId('ticket-status');
    assert.equal(await statuses.count(), 2);
    for (const s of await statuses.all()) assert.equal(await s.getAttribute('data-status'), 'void');
    assert.equal(await page.getByTestId('ticket-qr').count(), 0, 'no QR code for a void ticket');
    assert.match(await page.getByTestId('refund-status').textContent(), /refunded/);
    await shot(page, 'refund-done', { fullPage: true });

    // The seats are on sale again.
    const stats = await must('GET', `/v1/admin/performances/${sale.perf}/stats`, { token: ADMIN });
    assert.deepEqual(stats.seats, { available: 4, held: 0, sold: 0 });
    // Twice with another key: already refunded.
    const again = await fetch(`${process.env.TK_BASE}/v1/orders/${placed.id}/refund`, {
      method: 'POST', headers: { Authorization: `Bearer ${acc.token}`, 'Idempotency-Key': 'other-key' },
    });
    assert.equal(again.status, 409);
    assert.equal((await again.json()).error.code, 'already_refunded');

    // Korean: "my orders" shows the refunded order and void tickets.
    const { page: ko } = await newPage(browser, { locale: 'ko-KR' });
    await useSession(ko, acc);
    await ko.goto('/me/orders');
    await ko.getByTestId('orders').waitFor();
    const item = ko.locator(`[data-order="${placed.id}"]`);
    assert.match(await item.textContent(), /환불 완료/);
    assert.match(await item.textContent(), /무효 \(환불됨\)/);
    await shot(ko, 'refund-my-orders-ko', { fullPage: true });

    for (const p of [page, ko]) {
      assert.deepEqual(p.jsErrors.filter((e) => !/Failed to load resource|net::/.test(e)), []);
    }
  } finally {
    await browser.close();
  }
});
