// Every main screen checked by axe-core (no serious or critical violations), a buyer in Korean and
// English on a phone and on a desktop, and the operator console's create and dashboard pages; the
// screenshots of these screens are the ones in docs/screenshots (scripts/screenshots.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, account, axe, createSale, launch, must, newPage, shot, toSeats, uid, useSession } from './lib.mjs';

const MODES = [
  { name: 'ko-phone', opts: { locale: 'ko-KR', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    title: '서울시립교향악단 신년음악회', venue: '롯데콘서트홀', card: '카드 번호' },
  { name: 'en-desktop', opts: { locale: 'en-US', viewport: { width: 1280, height: 900 } },
    title: 'Seoul Philharmonic New Year Concert', venue: 'Lotte Concert Hall', card: 'Card number' },
  // The other two combinations, checked the same way (their screenshots are not in the README).
  { name: 'en-phone', opts: { locale: 'en-US', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    title: 'Seoul Philharmonic New Year Concert', venue: 'Lotte Concert Hall', card: 'Card number' },
  { name: 'ko-desktop', opts: { locale: 'ko-KR', viewport: { width: 1280, height: 900 } },
    title: '서울시립교향악단 신년음악회', venue: '롯데콘서트홀', card: '카드 번호' },
];

for (const m of MODES) {
  test(`buyer screens pass axe (${m.name})`, { timeout: 180_000 }, async () => {
    const sale = await createSale({ title: `${m.title} ${uid().slice(0, 4)}`, venueName: m.venue, rows: 4, perRow: 12 });
    // A sale whose one active place is taken: the buyer stays in its waiting room.
    const full = await createSale({ title: `${m.title} ${uid().slice(0, 4)}`, venueName: m.venue, queue: { max_active: 1, admit_per_interval: 1 } });
    const first = await account();
    await must('POST', `/v1/performances/${full.perf}/queue`, { token: first.token });
    const acc = await account();
    const browser = await launch();
    try {
      const { page } = await newPage(browser, m.opts);
      await page.goto('/');
      await page.getByTestId('event-list').waitFor();
      await axe(page, 'event list');
      await shot(page, `${m.name}-events`);

      await useSession(page, acc);
      await page.goto(`/p/${full.perf}/queue`);
      await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid="queue-ahead"]')?.textContent ?? ''));
      await page.getByTestId('event-context').waitFor();
      await axe(page, 'waiting room');
      await shot(page, `${m.name}-waiting-room`);

      await toSeats(page, sale.perf, acc);
      await page.getByTestId('seat-A-2-6').click();
      await page.getByTestId('seat-A-2-7').click();
      await axe(page, 'seat map');
      await shot(page, `${m.name}-seat-map`);
      await page.getByTestId('hold-button').click();
      await page.getByTestId('hold-countdown').waitFor();
      await axe(page, 'seat map with a hold');

      await page.getByTestId('checkout-button').click();
      await page.getByTestId('pay-button').waitFor();
      await page.getByTestId('event-context').waitFor();
      await axe(page, 'payment');
      await shot(page, `${m.name}-payment`);
      await page.getByLabel(m.card).fill('tok_ok');
      await page.getByTestId('pay-button').click();
      await page.getByTestId('confirmation').waitFor({ timeout: 30_000 });
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="ticket-qr"]').length === 2);
      await axe(page, 'confirmation');
      await shot(page, `${m.name}-confirmation`, { fullPage: true });

      await page.goto('/me/orders');
      await page.getByTestId('orders').waitFor();
      await axe(page, 'my orders');
      await shot(page, `${m.name}-orders`);
      assert.deepEqual(page.jsErrors.filter((e) => !/Failed to load resource|net::/.test(e)), []);
    } finally {
      await browser.close();
    }
  });
}

test('operator console: create and dashboard pages pass axe', { timeout: 120_000 }, async () => {
  const sale = await createSale({ title: `K-Pop Night ${uid().slice(0, 4)}`, venueName: 'KSPO Dome' });
  const browser = await launch();
  try {
    for (const m of [{ name: 'en-desktop', opts: { locale: 'en-US', viewport: { width: 1280, height: 1000 } } },
                     { name: 'ko-desktop', opts: { locale: 'ko-KR', viewport: { width: 1280, height: 1000 } } }]) {
      const { page, context } = await newPage(browser, m.opts);
      await page.goto('/admin');
      await page.evaluate((tok) => sessionStorage.setItem('tk.admin', tok), ADMIN);
      await page.goto('/admin/new');
      await page.getByTestId('perf-form').waitFor();
      await axe(page, 'console: create');
      await shot(page, `${m.name}-admin-create`, { fullPage: true });
      await page.goto(`/admin/p/${sale.perf}`);
      await page.getByTestId('event-context').waitFor();
      await page.waitForFunction(() => Number(document.querySelector('.charts')?.getAttribute('data-points')) >= 2);
      await axe(page, 'console: dashboard');
      await shot(page, `${m.name}-dashboard`, { fullPage: true });
      await context.close();
    }
  } finally {
    await browser.close();
  }
});
