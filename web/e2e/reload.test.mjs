// A reload in the waiting room keeps the place (the ticket is kept in localStorage, no new join),
// a second tab shows the same place, and both move on by themselves when the sale resumes.
// Phone-sized screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { account, ADMIN, createSale, launch, must, newPage, shot, uiLogin } from './lib.mjs';

test('reload and a second tab keep the place in the waiting room', { timeout: 120_000 }, async () => {
  const sale = await createSale({ rows: 2, perRow: 6 });
  // Paused: joins are accepted, nobody is admitted.
  await must('PATCH', `/v1/admin/performances/${sale.perf}`, { token: ADMIN, body: { status: 'paused' } });
  for (let i = 0; i < 3; i++) {
    const other = await account();
    await must('POST', `/v1/performances/${sale.perf}/queue`, { token: other.token });
  }
  const browser = await launch();
  try {
    const acc = await account();
    const { context, page } = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const joins = [];
    context.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/queue')) joins.push(r.url()); });
    await uiLogin(page, acc, `/p/${sale.perf}/queue`);
    await page.waitForURL(`**/p/${sale.perf}/queue`);
    const pos = page.getByTestId('queue-position');
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid="queue-position"]')?.textContent ?? ''));
    const position = await pos.textContent();
    assert.equal(position, '4');
    assert.equal(await page.getByTestId('queue-ahead').textContent(), '3');
    const ticket = await page.evaluate((pid) => JSON.parse(localStorage.getItem(`tk.queue.${pid}`)).ticket, sale.perf);
    assert.ok(ticket);
    assert.equal(joins.length, 1);
    // No horizontal scrolling on a phone.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
    await shot(page, 'waiting-room', { fullPage: true });

    await page.reload();
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid="queue-position"]')?.textContent ?? ''));
    assert.equal(await pos.textContent(), position, 'same place after a reload');
    assert.equal(await page.evaluate((pid) => JSON.parse(localStorage.getItem(`tk.queue.${pid}`)).ticket, sale.perf), ticket);
    assert.equal(joins.length, 1, 'the reload polled with the kept ticket instead of joining again');

    const tab2 = await context.newPage();
    await tab2.goto(`/p/${sale.perf}/queue`);
    await tab2.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid="queue-position"]')?.textContent ?? ''));
    assert.equal(await tab2.getByTestId('queue-position').textContent(), position, 'same place in a second tab');
    assert.equal(joins.length, 1);

    // The sale resumes: both tabs are admitted and go to the seat map by themselves.
    await must('PATCH', `/v1/admin/performances/${sale.perf}`, { token: ADMIN, body: { status: 'on_sale' } });
    await page.waitForURL(`**/p/${sale.perf}/seats`, { timeout: 40_000 });
    await tab2.waitForURL(`**/p/${sale.perf}/seats`, { timeout: 40_000 });
    await page.getByTestId('seat-map').waitFor();
  } finally {
    await browser.close();
  }
});
