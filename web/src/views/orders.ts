import { call, type Order } from '../api';
import { h, message } from '../dom';
import { formatMoney, t, type Key } from '../i18n';
import type { ViewCtx } from '../router';
import { errorBox, handleAuthError, requireSession } from './common';

export async function ordersView({ main, signal }: ViewCtx): Promise<void> {
  const sess = requireSession();
  if (!sess) return;
  main.appendChild(h('h1', {}, t('orders.title')));
  try {
    const { data } = await call<{ orders: Order[] }>('GET', '/v1/me/orders', { session: sess.token, signal });
    if (!data.orders.length) { main.appendChild(message('info', t('orders.empty'))); return; }
    main.appendChild(h('ul', { class: 'cards', 'data-testid': 'orders' }, data.orders.map((o) => h('li', { class: 'card order' },
      h('span', { class: `badge st-${o.status}` }, t(`orders.status.${o.status}` as Key)),
      h('span', {}, t('orders.seats', { n: o.seat_ids.length })),
      h('span', {}, formatMoney(o.total_cents, o.currency)),
      h('a', { href: `/orders/${encodeURIComponent(o.id)}`, class: 'button secondary' }, t('orders.view'))))));
  } catch (e) {
    if (handleAuthError(e)) return;
    main.appendChild(errorBox(e));
  }
}
