import { ApiError, call, type EventInfo } from '../api';
import { h, message } from '../dom';
import { formatDate, t, type Key } from '../i18n';
import { debounce } from '../logic/debounce';
import type { ViewCtx } from '../router';
import { session } from '../state';
import { errorBox } from './common';

interface Ranked { event_id: string; title: string; sold: number }

const SEARCH_DELAY_MS = 300;
const MAX_QUERY_CHARS = 100;

function eventCards(events: EventInfo[]): HTMLElement {
  const list = h('ul', { class: 'cards', 'data-testid': 'event-list' });
  for (const ev of events) {
    list.appendChild(h('li', { class: 'card', id: `event-${ev.id}` },
      h('h2', {}, ev.title),
      h('p', { class: 'muted' }, t('events.venue', { name: ev.venue.name })),
      h('ul', { class: 'perfs' }, ev.performances.map((p) => {
        const open = p.status === 'on_sale' || p.status === 'paused';
        const next = `/p/${encodeURIComponent(p.id)}/queue`;
        const href = session() ? next : `/login?next=${encodeURIComponent(next)}`;
        return h('li', { class: 'perf', 'data-perf': p.id },
          h('div', {}, h('strong', {}, formatDate(p.starts_at)), ' ',
            h('span', { class: `badge st-${p.status}` }, t(`status.${p.status}` as Key)),
            p.status === 'scheduled' ? h('div', { class: 'muted' }, t('events.opens', { when: formatDate(p.sale_opens_at) })) : null),
          open ? h('a', { class: 'button', href, 'data-testid': `buy-${p.id}` }, t('events.buy')) : null);
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
        box.appendChild(eventCards(data.events));
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
