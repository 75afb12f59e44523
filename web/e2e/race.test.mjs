// Two browsers race for the same seat: exactly one gets the hold, the other sees a clear message
// naming the seat (no stack trace) and the seat shown as taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { account, ADMIN, createSale, launch, must, newPage, uiLogin } from './lib.mjs';

test('two buyers, one seat: one hold, one clear message', { timeout: 120_000 }, async () => {
  const sale = await createSale({ rows: 1, perRow: 6 });
  const browser = await launch();
  try {
    const buyers = [];
    for (const locale of ['en-US', 'ko-KR']) {
      const acc = await account();
      const { page } = await newPage(browser, { locale });
      await uiLogin(page, acc, `/p/${sale.perf}/queue`);
      buyers.push({ acc, page, locale });
    }
    for (const b of buyers) {
      await b.page.waitForURL(`**/p/${sale.perf}/seats`, { timeout: 30_000 });
      await b.page.waitForFunction(() => document.querySelector('[data-testid="seat-A-1-3"]')?.getAttribute('aria-disabled') === 'false');
      await b.page.getByTestId('seat-A-1-3').click();
      assert.equal(await b.page.getByTestId('seat-A-1-3').getAttribute('aria-checked'), 'true');
    }
    // Both press "hold" at the same moment.
    await Promise.all(buyers.map((b) => b.page.getByTestId('hold-button').click()));
    const outcome = await Promise.all(buyers.map(async (b) => {
      const won = b.page.getByTestId('hold-panel');
      const lost = b.page.getByTestId('seat-error');
      await b.page.waitForFunction(() => !!(document.querySelector('[data-testid="hold-panel"]:not([hidden])') || document.querySelector('[data-testid="seat-error"]')));
      if (await won.isVisible()) {
        await b.page.waitForFunction(() => /^\d+:\d\d$/.test(document.querySelector('[data-testid="hold-countdown"]')?.textContent ?? ''));
        return { b, won: true };
      }
      return { b, won: false, text: await lost.textContent() };
    }));
    const winners = outcome.filter((o) => o.won);
    const losers = outcome.filter((o) => !o.won);
    assert.equal(winners.length, 1, 'exactly one buyer holds the seat');
    assert.equal(losers.length, 1);
    const l = losers[0];
    if (l.b.locale === 'ko-KR') assert.match(l.text, /A · 1열 · 3번 좌석을 다른 분이 방금 선택했습니다/);
    else assert.match(l.text, /someone else just took A · row 1 · seat 3/);
    assert.doesNotMatch(l.text, /Error|\bat \S+ \(|undefined|\{/);
    // The loser's map shows the seat as taken (held) and it can no longer be selected.
    await l.b.page.waitForFunction(() => document.querySelector('[data-testid="seat-A-1-3"]')?.classList.contains('held'));
    assert.equal(await l.b.page.getByTestId('seat-A-1-3').getAttribute('aria-checked'), 'false');
    const stats = await must('GET', `/v1/admin/performances/${sale.perf}/stats`, { token: ADMIN });
    assert.equal(stats.seats.held, 1);
  } finally {
    await browser.close();
  }
});
