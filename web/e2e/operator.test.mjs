// The operator logs in with the admin token, creates a venue (CSV import), an event and a
// performance through the console, opens the sale from the dashboard and watches its charts move
// while a small crowd (API buyers) buys; then changes the admission settings and pauses, live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, apiBuyer, launch, must, newPage, shot, uid } from './lib.mjs';

const CROWD = 12;

test('operator: create a sale, open it, watch the dashboard while a crowd buys', { timeout: 240_000 }, async () => {
  const browser = await launch();
  try {
    const { page } = await newPage(browser, { viewport: { width: 1280, height: 1000 } });
    await page.goto('/admin/new');
    // No token yet: the token form; a wrong token is refused.
    await page.getByLabel('Admin token').fill('wrong-token');
    await page.getByRole('button', { name: 'Enter' }).click();
    await page.getByTestId('admin-error').waitFor();
    await page.getByLabel('Admin token').fill(ADMIN);
    await page.getByRole('button', { name: 'Enter' }).click();
    await page.waitForURL('**/admin/new');
    assert.equal(await page.evaluate(() => localStorage.getItem('tk.admin')), null, 'admin token not in localStorage');

    // Venue by CSV import.
    const venue = page.getByTestId('venue-form');
    await venue.getByLabel('Venue name').fill(`Olympic Hall ${uid()}`);
    await venue.locator('textarea').fill('section,row,seats,grade\nFloor,1,10,VIP\nFloor,2,10,R\nBalcony,1,10,S\n');
    await page.getByTestId('csv-apply').click();
    assert.equal(await venue.locator('tbody tr').count(), 3);
    // The preview follows the import and every edit of the rows.
    assert.equal(await page.getByTestId('venue-preview').getAttribute('data-seats'), '30');
    assert.equal(await page.getByTestId('venue-preview').locator('svg rect').count(), 31);   // the stage and 30 seats
    await venue.getByLabel('Seats').nth(2).fill('12');
    assert.equal(await page.getByTestId('venue-preview').getAttribute('data-seats'), '32');
    await venue.getByLabel('Seats').nth(2).fill('10');
    await venue.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('venue-created').waitFor();
    assert.match(await page.getByTestId('venue-created').textContent(), /30 seats/);

    const ev = page.getByTestId('event-form');
    await ev.getByLabel('Title').fill(`K-Pop Night ${uid()}`);
    await ev.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('event-created').waitFor();

    const pf = page.getByTestId('perf-form');
    await pf.getByLabel('Price of grade VIP').fill('220000');
    await pf.getByLabel('Max seats per order').fill('2');
    await pf.getByLabel('Admit per interval').fill('3');
    await pf.getByLabel('Interval (s)').fill('1');
    await pf.getByLabel('Max active buyers').fill('6');
    await pf.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('perf-created').waitFor();
    await page.getByTestId('open-dashboard').click();
    await page.waitForURL(/\/admin\/p\/prf_/);
    const pid = page.url().split('/admin/p/')[1];
    const perf = await must('GET', `/v1/admin/performances/${pid}`, { token: ADMIN });
    assert.deepEqual(perf.price_grades.map((g) => [g.grade, g.price_cents]).sort(), [['R', 110000], ['S', 70000], ['VIP', 220000]]);
    assert.equal(perf.max_seats_per_order, 2);
    assert.equal(perf.queue.admit_per_interval, 3);
    assert.equal(perf.queue.max_active, 6);

    // The sale opens from the dashboard.
    assert.match(await page.getByTestId('dash-status').textContent(), /Not on sale yet/);
    await page.getByTestId('open-sale').click();
    await page.waitForFunction(() => /On sale/.test(document.querySelector('[data-testid="dash-status"]')?.textContent ?? ''));
    await page.waitForFunction(() => Number(document.querySelector('.charts')?.getAttribute('data-points')) >= 2);
    const before = await page.getByTestId('chart-2').screenshot();

    // A small crowd buys while the dashboard refreshes.
    const crowd = Promise.all(Array.from({ length: CROWD }, (_, i) => apiBuyer(pid, { rng: () => ((i * 7919) % 97) / 97 })));
    // The queue builds up (max 6 active, 3 per second): the dashboard shows people waiting.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="stat-waiting"]')?.textContent) > 0 ||
      Number(document.querySelector('[data-testid="stat-sold"]')?.textContent) > 0, null, { timeout: 60_000 });
    const results = await crowd;
    const sold = results.reduce((n, r) => n + r.sold, 0);
    assert.equal(sold, CROWD);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="stat-sold"]')?.textContent) === n &&
      Number(document.querySelector('[data-testid="stat-orders-paid"]')?.textContent) === n, sold, { timeout: 10_000 });
    assert.equal(await page.getByTestId('stat-available').textContent(), String(30 - sold));
    const after = await page.getByTestId('chart-2').screenshot();
    assert.ok(!before.equals(after), 'the seats chart moved');
    const points = Number(await page.locator('.charts').getAttribute('data-points'));
    assert.ok(points >= 5, `the charts have a history (${points} points)`);
    await shot(page, 'dashboard', { fullPage: true });

    // Live controls: admission settings and pause.
    const q = page.getByTestId('queue-form');
    await q.getByLabel('Admit per interval').fill('50');
    await q.getByLabel('Max active buyers').fill('200');
    // The dashboard re-reads the performance every few seconds: that refresh keeps the typed values.
    const filled = Number(await q.getAttribute('data-filled'));
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="queue-form"]')
      ?.getAttribute('data-filled')) > n, filled, { timeout: 15000 });
    assert.equal(await q.getByLabel('Admit per interval').inputValue(), '50');
    // The "updated" message is still shown from opening the sale: wait for this change's answer.
    const applied = page.waitForResponse((r) => r.request().method() === 'PATCH' &&
      r.url().endsWith(`/v1/admin/performances/${pid}`));
    await q.getByRole('button', { name: 'Apply' }).click();
    assert.equal((await applied).status(), 200);
    const p2 = await must('GET', `/v1/admin/performances/${pid}`, { token: ADMIN });
    assert.equal(p2.queue.admit_per_interval, 50);
    assert.equal(p2.queue.max_active, 200);
    await page.getByTestId('pause-sale').click();
    await page.waitForFunction(() => /Paused/.test(document.querySelector('[data-testid="dash-status"]')?.textContent ?? ''));
    assert.equal((await must('GET', `/v1/performances/${pid}`)).status, 'paused');
    await page.getByTestId('resume-sale').click();
    await page.waitForFunction(() => /On sale/.test(document.querySelector('[data-testid="dash-status"]')?.textContent ?? ''));
  } finally {
    await browser.close();
  }
});
