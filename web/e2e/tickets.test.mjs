// After the sale: the buyer downloads an e-ticket PDF from the confirmation, door staff check the
// ticket in on the door page (keyboard only), a second scan says "already checked in" with the
// time, and "my orders" shows the ticket as checked in. In English and Korean.
// Waits use locators, not waitForFunction: its requestAnimationFrame polling stalls in a page that
// is not in front (the staff and buyer pages share one browser).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ADMIN, account, apiBuy, createSale, launch, must, newPage, shot, useSession } from './lib.mjs';

test('tickets: PDF download, door check-in, second scan already checked in', { timeout: 180_000 }, async () => {
  const sale = await createSale({ rows: 1, perRow: 4 });
  const layout = await must('GET', `/v1/venues/${sale.venue.id}/layout`);
  const seats = layout.sections[0].rows[0].seats.map((s) => s.id);
  const acc = await account();
  const placed = await apiBuy(sale.perf, acc, seats.slice(0, 2));
  const order = await must('GET', `/v1/orders/${placed.id}`, { token: acc.token });
  assert.equal(order.tickets.length, 2);
  assert.deepEqual(order.tickets.map((t) => t.status), ['valid', 'valid']);
  const keys = await must('GET', '/v1/checkin/keys');
  assert.equal(keys.keys[0].alg, 'Ed25519');
  assert.equal(order.tickets[0].code.split('.')[0], keys.keys[0].kid);

  const browser = await launch();
  try {
    const { page } = await newPage(browser, { acceptDownloads: true });
    await useSession(page, acc);
    await page.goto(`/orders/${order.id}`);
    await page.getByTestId('confirmation').waitFor();
    const statuses = page.getByTestId('ticket-status');
    assert.equal(await statuses.count(), 2);
    assert.equal(await statuses.first().textContent(), 'Valid');

    // The download: a PDF file, served as application/pdf.
    const first = order.tickets[0];
    const button = page.locator(`[data-testid="ticket-pdf"][data-ticket="${first.id}"]`);
    assert.match(await button.getAttribute('aria-label'), /Download e-ticket \d \(PDF\)/);
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    assert.equal(download.suggestedFilename(), `ticket-${first.id}.pdf`);
    const bytes = readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    const head = await page.evaluate(async ({ id, token }) => {
      const r = await fetch(`/v1/tickets/${id}/pdf`, { headers: { Authorization: `Bearer ${token}` } });
      const b = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, type: r.headers.get('content-type'), magic: String.fromCharCode(...b.slice(0, 5)) };
    }, { id: first.id, token: acc.token });
    assert.deepEqual(head, { status: 200, type: 'application/pdf', magic: '%PDF-' });
    // Someone else's session: not found.
    const stranger = await account();
    const r404 = await page.request.get(`/v1/tickets/${first.id}/pdf`, { headers: { Authorization: `Bearer ${stranger.token}` } });
    assert.equal(r404.status(), 404);
    await shot(page, 'tickets-confirmation', { fullPage: true });

    // Door staff, keyboard only: token, Tab, code, Enter.
    const door = await must('POST', `/v1/admin/performances/${sale.perf}/door-tokens`, { token: ADMIN, body: {} });
    const { page: staff } = await newPage(browser);
    await staff.goto('/door');
    await staff.getByRole('heading', { level: 1, name: 'Check-in at the door' }).waitFor();
    await staff.getByLabel('Door token').focus();
    await staff.keyboard.insertText(door.token);
    await staff.keyboard.press('Tab');
    assert.equal(await staff.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'door-code');
    await staff.keyboard.insertText(first.code);
    await staff.keyboard.press('Enter');
    const msg = staff.getByTestId('door-message');
    await msg.waitFor();
    assert.equal(await msg.getAttribute('data-outcome'), 'checked_in', await msg.textContent());
    assert.match(await msg.textContent(), /Welcome! Checked in: seat/);
    // The code field is cleared and focused for the next scan.
    assert.equal(await staff.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'door-code');
    assert.equal(await staff.getByTestId('door-code').inputValue(), '');
    await shot(staff, 'door-checked-in');

    // Second scan: already checked in, with the time of the first.
    // (through the locator: a screenshot may take the keyboard focus from the page)
    const codeField = staff.getByTestId('door-code');
    await codeField.fill(first.code);
    await codeField.press('Enter');
    await staff.locator('[data-testid="door-message"][data-outcome="already_checked_in"]').waitFor();
    assert.match(await msg.textContent(), /Already checked in at .*\d{2}:\d{2}/);
    await shot(staff, 'door-already-checked-in');
    // A code that does not verify.
    await codeField.fill('not-a-ticket-code');
    await codeField.press('Enter');
    await staff.locator('[data-testid="door-message"][data-outcome="unknown"]').waitFor();

    // The buyer's orders show it checked in; the other ticket is still valid.
    await page.goto('/me/orders');
    await page.getByTestId('orders').waitFor();
    const rowStatus = (id) => page.locator(`[data-testid="order-ticket"][data-ticket="${id}"] [data-testid="ticket-status"]`);
    assert.equal(await rowStatus(first.id).getAttribute('data-status'), 'checked_in');
    assert.match(await rowStatus(first.id).textContent(), /^Checked in .*\d{2}:\d{2}/);
    assert.equal(await rowStatus(order.tickets[1].id).getAttribute('data-status'), 'valid');
    assert.equal(await page.locator('[data-testid="order-ticket"] [data-testid="ticket-pdf"]').count(), 2);
    await shot(page, 'tickets-my-orders', { fullPage: true });

    // Korean door page: the second ticket, then its repeat scan.
    const { page: ko } = await newPage(browser, { locale: 'ko-KR' });
    await ko.goto('/door');
    await ko.getByRole('heading', { level: 1, name: '현장 입장 확인' }).waitFor();
    await ko.getByLabel('입장 토큰').fill(door.token);
    await ko.getByLabel('티켓 코드').fill(order.tickets[1].code);
    await ko.getByLabel('티켓 코드').press('Enter');
    await ko.locator('[data-testid="door-message"][data-outcome="checked_in"]').waitFor();
    assert.match(await ko.getByTestId('door-message').textContent(), /입장 완료/);
    await ko.getByLabel('티켓 코드').fill(order.tickets[1].code);
    await ko.getByLabel('티켓 코드').press('Enter');
    await ko.locator('[data-testid="door-message"][data-outcome="already_checked_in"]').waitFor();
    assert.match(await ko.getByTestId('door-message').textContent(), /이미 입장한 티켓입니다/);
    await shot(ko, 'door-already-checked-in-ko');

    for (const p of [page, staff, ko]) {
      assert.deepEqual(p.jsErrors.filter((e) => !/Failed to load resource|net::/.test(e)), []);
    }
  } finally {
    await browser.close();
  }
});
