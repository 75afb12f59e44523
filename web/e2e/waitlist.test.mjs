// The waiting list after sell-out: a buyer who finds every seat taken signs up from the seat map
// and sees the place; when another buyer's hold is released the page shows the offer within
// seconds and the buyer pays for it through the usual order and payment pages. Leaving the list
// (from the catalogue's sold-out performance, signed out first, in Korean on a phone), a sign-up
// refused while seats are free, and an offer that runs out unpaid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, account, api, apiBuy, apiHold, axe, createSale, launch, must, newPage, shot, sleep, useSession } from './lib.mjs';

// The offer loop runs once a second and the page asks every 10 s.
const OFFER_SHOWN_MS = 20_000;

async function seatIds(sale) {
  const layout = await must('GET', `/v1/venues/${sale.venue.id}/layout`);
  return layout.sections.flatMap((s) => s.rows.flatMap((r) => r.seats.map((x) => x.id)));
}

const myEntry = (pid, acc) => api('GET', `/v1/performances/${pid}/waitlist/me`, { token: acc.token });
const jsErrors = (page) => page.jsErrors.filter((e) => !/Failed to load resource|net::/.test(e));

test('sold out: sign up from the seat map, the offer shows once a hold is released, paid as usual', { timeout: 180_000 }, async () => {
  const sale = await createSale({ rows: 1, perRow: 2, perOrder: 2 });
  const seats = await seatIds(sale);
  const holder = await account();
  const held = await apiHold(sale.perf, holder, seats);
  const buyer = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await useSession(page, buyer);
    await page.goto(`/p/${sale.perf}/queue`);
    await page.waitForURL(`**/p/${sale.perf}/seats`, { timeout: 30_000 });
    // Every seat is held by someone: the seat map offers the waiting list.
    await page.getByTestId('waitlist-offer').waitFor();
    await axe(page, 'seat map, nothing free');
    await page.getByTestId('waitlist-link').click();
    await page.waitForURL(`**/p/${sale.perf}/waitlist`);
    await page.getByTestId('waitlist-signup').waitFor();
    assert.match(await page.getByTestId('event-context').textContent(), new RegExp(sale.event.title));
    assert.deepEqual(await page.getByTestId('waitlist-count').locator('option').allTextContents(), ['1 seat(s)', '2 seat(s)']);
    assert.match(await page.getByTestId('waitlist-signup').textContent(), /offered in list order/);
    await page.getByLabel('Seats wanted').selectOption('2');
    await axe(page, 'waiting list, sign-up');
    await shot(page, 'waitlist-signup');
    await page.getByTestId('waitlist-join').click();
    await page.getByTestId('waitlist-waiting').waitFor();
    assert.equal(await page.getByTestId('waitlist-position').textContent(), '1');
    assert.equal(await page.getByTestId('waitlist-seats').textContent(), '2 seat(s)');
    const entry = await myEntry(sale.perf, buyer);
    assert.equal(entry.status, 200);
    assert.deepEqual(entry.data, { position: 1, count: 2, state: 'waiting' });
    await axe(page, 'waiting list, waiting');
    await shot(page, 'waitlist-waiting');

    // The holder lets the seats go: they are held for the buyer, and the page shows the offer.
    await must('DELETE', `/v1/holds/${held.hold_id}`, { token: holder.token });
    const t0 = Date.now();
    await page.getByTestId('waitlist-offered').waitFor({ timeout: OFFER_SHOWN_MS });
    console.log(`offer shown ${Date.now() - t0} ms after the release`);
    assert.match(await page.getByTestId('offer-deadline').textContent(), /^Pay before .* KST$/);
    assert.match(await page.getByTestId('offer-countdown').textContent(), /^\d+:\d\d$/);
    const offer = (await myEntry(sale.perf, buyer)).data;
    assert.equal(offer.state, 'offered');
    assert.ok(offer.hold_id && offer.access_token && offer.access_expires_at, JSON.stringify(offer));
    assert.equal(await page.getByTestId('waitlist-leave').isVisible(), true);
    await axe(page, 'waiting list, offered');
    await shot(page, 'waitlist-offered');

    // Pay now: the order and payment pages of any hold.
    await page.getByTestId('offer-pay').click();
    await page.waitForURL(/\/orders\/ord_/);
    await page.getByTestId('pay-button').waitFor();
    assert.equal(await page.getByTestId('order-seats').locator('li').count(), 2);
    await page.getByLabel('Card number').fill('tok_ok');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('confirmation').waitFor();
    assert.equal(await page.getByTestId('ticket').count(), 2);
    const orders = (await must('GET', '/v1/me/orders', { token: buyer.token })).orders.filter((o) => o.performance_id === sale.perf);
    assert.equal(orders.length, 1);
    assert.equal(orders[0].status, 'paid');
    assert.equal(orders[0].hold_id, offer.hold_id);
    assert.deepEqual([...orders[0].seat_ids].sort(), [...seats].sort());

    // Back on the list's page: the offer reads as bought, nothing to pay or leave.
    await page.goto(`/p/${sale.perf}/waitlist`);
    await page.getByTestId('waitlist-paid').waitFor();
    assert.equal(await page.getByTestId('offer-pay').isVisible(), false);
    assert.equal(await page.getByTestId('waitlist-leave').isVisible(), false);
    assert.deepEqual(jsErrors(page), []);
  } finally {
    await browser.close();
  }
});

test('leaving the list: from the sold-out catalogue, logged in first, in Korean on a phone', { timeout: 120_000 }, async () => {
  const sale = await createSale({ rows: 1, perRow: 2, perOrder: 2 });
  await apiBuy(sale.perf, await account(), await seatIds(sale));
  for (let i = 0; i < 50 && (await must('GET', `/v1/performances/${sale.perf}`)).status !== 'sold_out'; i++) await sleep(100);
  const buyer = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser, { locale: 'ko-KR', ...PHONE });
    await page.goto('/');
    const link = page.getByTestId(`waitlist-${sale.perf}`);
    assert.equal(await link.textContent(), '취소표 대기 신청하기');
    await link.click();
    await page.waitForURL(/\/login\?next=/);
    await page.getByLabel('이메일').fill(buyer.email);
    await page.getByLabel('비밀번호').fill(buyer.password);
    await page.getByRole('button', { name: '로그인' }).click();
    await page.waitForURL(`**/p/${sale.perf}/waitlist`);
    await page.getByTestId('waitlist-signup').waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), '취소표 대기');
    await page.getByTestId('waitlist-join').click();
    await page.getByTestId('waitlist-waiting').waitFor();
    assert.equal(await page.getByTestId('waitlist-position').textContent(), '1');
    assert.equal(await page.getByTestId('waitlist-seats').textContent(), '1석');
    await axe(page, 'waiting list, Korean phone');
    await shot(page, 'waitlist-waiting-ko-phone', { fullPage: true });

    // The dialog's "stay" changes nothing.
    await page.getByTestId('waitlist-leave').click();
    const dialog = page.getByRole('dialog', { name: '취소표 대기를 취소할까요?' });
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /맨 뒤/);
    await axe(page, 'waiting list, leave dialog');
    await page.getByTestId('waitlist-leave-cancel').click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await myEntry(sale.perf, buyer)).data.state, 'waiting');

    await page.getByTestId('waitlist-leave').click();
    await page.getByTestId('waitlist-leave-confirm').click();
    await page.getByTestId('waitlist-left').waitFor();
    assert.equal(await page.getByTestId('waitlist-left').textContent(), '취소표 대기를 취소했습니다.');
    await page.getByTestId('waitlist-signup').waitFor();
    const gone = await myEntry(sale.perf, buyer);
    assert.equal(gone.status, 422);
    assert.equal(gone.data.error.code, 'not_on_waitlist');
    assert.deepEqual(jsErrors(page), []);
  } finally {
    await browser.close();
  }
});

test('the sign-up is refused while seats are free, and beyond the seats per order', { timeout: 120_000 }, async () => {
  const sale = await createSale({ rows: 1, perRow: 4, perOrder: 2 });
  const buyer = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await useSession(page, buyer);
    await page.goto(`/p/${sale.perf}/waitlist`);
    await page.getByTestId('waitlist-signup').waitFor();
    // More than one order may take (a page older than a settings change would send it).
    await page.getByTestId('waitlist-count').evaluate((sel) => {
      sel.appendChild(Object.assign(document.createElement('option'), { value: '3', textContent: '3' }));
      sel.value = '3';
    });
    await page.getByTestId('waitlist-join').click();
    const error = page.getByTestId('waitlist-error');
    await error.waitFor();
    assert.equal(await error.textContent(), 'Please choose between 1 and 2 seats.');

    await page.getByTestId('waitlist-count').selectOption('1');
    await page.getByTestId('waitlist-join').click();
    await page.getByText('Seats are available — pick seats instead.').waitFor();
    assert.equal(await error.getAttribute('role'), 'alert');
    await axe(page, 'waiting list, seats free');
    const gone = await myEntry(sale.perf, buyer);
    assert.equal(gone.data.error.code, 'not_on_waitlist');
    // The way back to the seats (through the waiting room).
    await page.getByTestId('waitlist-to-seats').click();
    await page.waitForURL(`**/p/${sale.perf}/seats`, { timeout: 30_000 });
    await page.locator('.seat[aria-disabled="false"]').first().waitFor();
    assert.deepEqual(jsErrors(page), []);
  } finally {
    await browser.close();
  }
});

test('an offer not paid in time runs out, and the page offers a new sign-up', { timeout: 150_000 }, async () => {
  const ttl = 25;   // the offer's window: the performance's time to buy
  const sale = await createSale({ rows: 1, perRow: 1, perOrder: 1, queue: { access_ttl_seconds: ttl } });
  const holder = await account();
  const held = await apiHold(sale.perf, holder, await seatIds(sale));
  const buyer = await account();
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await useSession(page, buyer);
    await page.goto(`/p/${sale.perf}/waitlist`);
    await page.getByTestId('waitlist-join').click();
    await page.getByTestId('waitlist-waiting').waitFor();
    await must('DELETE', `/v1/holds/${held.hold_id}`, { token: holder.token });
    await page.getByTestId('waitlist-offered').waitFor({ timeout: OFFER_SHOWN_MS });
    await page.getByTestId('waitlist-expired').waitFor({ timeout: (ttl + 12) * 1000 });
    assert.match(await page.getByTestId('waitlist-expired').textContent(), /ran out before it was paid/);
    assert.equal(await page.getByTestId('offer-pay').isVisible(), false);
    assert.equal((await myEntry(sale.perf, buyer)).data.state, 'expired');
    await axe(page, 'waiting list, offer expired');
    await page.getByTestId('waitlist-again').click();
    await page.getByTestId('waitlist-signup').waitFor();
    assert.equal(await page.getByTestId('waitlist-count').inputValue(), '1');
    assert.deepEqual(jsErrors(page), []);
  } finally {
    await browser.close();
  }
});
