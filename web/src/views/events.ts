import { call, type EventInfo } from '../api';
import { h, message } from '../dom';
import { formatDate, t, type Key } from '../i18n';
import type { ViewCtx } from '../router';
import { session } from '../state';
import { errorBox } from './common';

export async function eventsView({ main, signal }: ViewCtx): Promise<void> {
  main.appendChild(h('h1', {}, t('events.title')));
  const box = h('div', { 'aria-busy': 'true' }, t('common.loading'));
  main.appendChild(box);
  try {
    const { data } = await call<{ events: EventInfo[] }>('GET', '/v1/events', { signal });
    box.replaceChildren();
    box.removeAttribute('aria-busy');
    if (!data.events.length) { box.appendChild(message('info', t('events.empty'))); return; }
    const list = h('ul', { class: 'cards', 'data-testid': 'event-list' });
    for (const ev of data.events) {
      list.appendChild(h('li', { class: 'card' },
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
    box.appendChild(list);
  } catch (e) {
    box.replaceChildren(errorBox(e));
  }
}
