import { ApiError, call, serverSkewMs, type EventInfo, type Performance, type PerformanceSummary } from '../api';
import { append, h, message } from '../dom';
import { formatDate, t, type Key } from '../i18n';
import { debounce } from '../logic/debounce';
import { preQueuePhase } from '../logic/prequeue';
import { later, type ViewCtx } from '../router';
import { session } from '../state';
import { errorBox } from './common';

interface Ranked { event_id: string; title: string; sold: number }

const SEARCH_DELAY_MS = 300;
const MAX_QUERY_CHARS = 100;

/** One performance's line: date, status, when the sale (or its pre-queue) opens, and the button
 *  to the waiting room once there is one to join. Redrawn by itself when the pre-queue opens. */
function renderPerf(li: HTMLElement, p: PerformanceSummary, queueOpensAt: string | undefined, signal: AbortSignal): void {
  const now = Date.now() + serverSkewMs;
  const phase = p.status === 'scheduled' ? preQueuePhase(queueOpensAt, p.sale_opens_at, now) : 'none';
  const open = p.status === 'on_sale' || p.status === 'paused' || phase === 'open' || phase === 'over';
  // Sold out: the waiting list instead of the waiting room. Signed out: log in first, then there.
  const next = `/p/${encodeURIComponent(p.id)}/${p.status === 'sold_out' ? 'waitlist' : 'queue'}`;
  const href = session() ? next : `/login?next=${encodeURIComponent(next)}`;
  li.replaceChildren();
  append(li, [
    h('div', {}, h('strong', {}, formatDate(p.starts_at)), ' ',
      h('span', { class: `badge st-${p.status}` }, t(`status.${p.status}` as Key)),
      p.status === 'scheduled' ? h('div', { class: 'muted' }, t('events.opens', { when: formatDate(p.sale_opens_at) })) : null,
      phase === 'before' && queueOpensAt
        ? h('div', { class: 'muted', 'data-testid': `prequeue-${p.id}` }, t('events.prequeue_opens', { when: formatDate(queueOpensAt) })) : null,
      phase === 'open' ? h('div', { class: 'prequeue-note', 'data-testid': `prequeue-${p.id}` }, t('events.prequeue_open')) : null),
    open ? h('a', { class: 'button', href, 'data-testid': `buy-${p.id}` }, t(phase === 'open' ? 'events.prequeue_join' : 'events.buy')) : null,
    p.status === 'sold_out' ? h('a', { class: 'button secondary', href, 'data-testid': `waitlist-${p.id}` }, t('waitlist.join')) : null]);
  // The pre-queue opens, or the sale opens after it: the line follows.
  const until = phase === 'before' && queueOpensAt ? Date.parse(queueOpensAt) : phase === 'open' ? Date.parse(p.sale_opens_at) : NaN;
  if (!Number.isNaN(until)) later(signal, Math.min(2 ** 31 - 1, until - now + 250), () => renderPerf(li, p, queueOpensAt, signal));
}

/** A scheduled performance's pre-queue time is on the performance itself (the catalogue list does
 *  not carry it): asked for once its line is on screen, so a long list costs no burst of requests. */
function whenVisible(el: Element, signal: AbortSignal, f: () => void): void {
  if (typeof IntersectionObserver === 'undefined') { f(); return; }
  const io = new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    io.disconnect();
    f();
  });
  io.observe(el);
  signal.addEventListener('abort', () => io.disconnect(), { once: true });
}

function eventCards(events: EventInfo[], signal: AbortSignal): HTMLElement {
  const list = h('ul', { class: 'cards', 'data-testid': 'event-list' });
  for (const ev of events) {
    list.appendChild(h('li', { class: 'card', id: `event-${ev.id}` },
      h('h2', {}, ev.title),
      h('p', { class: 'muted' }, t('events.venue', { name: ev.venue.name })),
      h('ul', { class: 'perfs' }, ev.performances.map((p) => {
        const li = h('li', { class: 'perf', 'data-perf': p.id });
        renderPerf(li, p, p.queue_opens_at, signal);
        if (p.status === 'scheduled' && !p.queue_opens_at) {
          whenVisible(li, signal, () => void call<Performance>('GET', `/v1/performances/${encodeURIComponent(p.id)}`, { signal })
            .then(({ data }) => { if (data.queue_opens_at && !signal.aborted) renderPerf(li, p, data.queue_opens_at, signal); })
            .catch(() => { /* the line stays as it is */ }));
        }
        return li;
      }))));
  }
  return list;
}

/** "Popular now": the day's best sellers; absent when there are none or the rankings are down. */
async function popularStrip(signal: AbortSignal): Promise<HTMLElement | null> {
  try {
    const { data } = await call<{ events: Ranked[] }>('GET', '/v1/rankings?window=24h', { signal });
    if (!data.events.length) return null;
    return h('section', { class: 'popular', 'aria-labelledby': 'popular-title', 'data-testid': 'popular' },
      h('h2', { id: 'popular-title' }, t('events.popular')),
      h('ol', {}, data.events.map((e, i) => h('li', {},
        h('a', { href: `#event-${e.event_id}`, 'data-testid': `popular-${e.event_id}` }, `${i + 1}. ${e.title}`), ' ',
        h('span', { class: 'muted' }, t('events.sold', { n: String(e.sold) }))))));
  } catch {
    return null;  // derived data: the list works without it
  }
}

export async function eventsView({ main, signal }: ViewCtx): Promise<void> {
  main.appendChild(h('h1', {}, t('events.title')));
  const input = h('input', {
    type: 'search', id: 'event-search', maxlength: String(MAX_QUERY_CHARS), autocomplete: 'off',
    placeholder: t('events.search.placeholder'), 'data-testid': 'event-search',
  });
  main.appendChild(h('form', { class: 'search', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
    h('label', { for: 'event-search' }, t('events.search.label')), ' ', input));
  const strip = h('div', {});
  main.appendChild(strip);
  const box = h('div', { 'aria-busy': 'true', 'aria-live': 'polite' }, t('common.loading'));
  main.appendChild(box);

  void popularStrip(signal).then((el) => { if (el) strip.replaceChildren(el); });

  let seq = 0;  // only the latest request may fill the list
  const show = async (q: string): Promise<void> => {
    const mine = ++seq;
    box.setAttribute('aria-busy', 'true');
    const path = q ? `/v1/events?q=${encodeURIComponent(q)}` : '/v1/events';
    try {
      const { data } = await call<{ events: EventInfo[] }>('GET', path, { signal });
      if (mine !== seq) return;
      box.replaceChildren();
      if (!data.events.length) {
        box.appendChild(q ? message('info', t('events.search.none', { q }), 'search-empty') : message('info', t('events.empty')));
      } else {
        box.appendChild(eventCards(data.events, signal));
      }
    } catch (e) {
      if (mine !== seq || signal.aborted) return;
      box.replaceChildren(e instanceof ApiError && e.status === 400 ? message('info', t('events.search.invalid')) : errorBox(e));
    } finally {
      if (mine === seq) box.removeAttribute('aria-busy');
    }
  };
  const search = debounce((q: string) => { void show(q); }, SEARCH_DELAY_MS);
  signal.addEventListener('abort', () => search.cancel());
  input.addEventListener('input', () => search(input.value.trim()));
  await show('');
}
