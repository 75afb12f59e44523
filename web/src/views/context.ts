// Which show the buyer is dealing with, on every step: the event's title, the venue, and the date
// and time in KST. The catalogue routes are public and cacheable, so this costs little.
import { call, type EventInfo, type Performance } from '../api';
import { h, type Child } from '../dom';
import { formatDate, formatMoney, t } from '../i18n';
import { seatIndex, type Layout } from '../logic/layout';

export interface Show { perf: Performance; title: string; venue: string }

export async function loadShow(pid: string, signal?: AbortSignal): Promise<Show> {
  const perf = (await call<Performance>('GET', `/v1/performances/${encodeURIComponent(pid)}`, { signal })).data;
  const ev = (await call<EventInfo>('GET', `/v1/events/${encodeURIComponent(perf.event_id)}`, { signal })).data;
  return { perf, title: ev.title, venue: ev.venue.name };
}

export interface SeatNames { describe: (id: string) => string; gradeOf: Map<string, string> }

/** Seat id -> "A · row 1 · seat 4" and its price grade, from the venue layout. */
export async function seatNames(venueId: string, signal?: AbortSignal): Promise<SeatNames> {
  const layout = (await call<Layout>('GET', `/v1/venues/${encodeURIComponent(venueId)}/layout`, { signal })).data;
  const idx = seatIndex(layout);
  return {
    describe: (id) => {
      const x = idx.get(id);
      return x ? t('seats.seat_short', { section: x.section, row: x.row, number: x.number }) : id;
    },
    gradeOf: new Map([...idx].map(([id, x]) => [id, x.grade])),
  };
}

export const noSeatNames: SeatNames = { describe: (id) => id, gradeOf: new Map() };

/** The order's seats, each with its price when the performance's price grades are known. */
export function seatLines(seatIds: readonly string[], names: SeatNames, show: Show | null): HTMLElement {
  const grades = new Map((show?.perf.price_grades ?? []).map((g) => [g.grade, g]));
  return h('ul', { class: 'seat-list', 'data-testid': 'order-seats' }, seatIds.map((id) => {
    const g = grades.get(names.gradeOf.get(id) ?? '');
    return h('li', {}, g ? t('order.seat_price', { seat: names.describe(id), price: formatMoney(g.price_cents, g.currency) })
      : names.describe(id));
  }));
}

/** The show's card: title, venue, date and time; `extra` below (order number, seats, totals). */
export function showCard(show: Show, ...extra: Child[]): HTMLElement {
  return h('section', { class: 'show card', 'aria-label': t('show.label'), 'data-testid': 'event-context' },
    h('h2', { class: 'show-title' }, show.title),
    h('p', { class: 'show-meta' }, h('span', {}, show.venue), h('span', { 'aria-hidden': 'true' }, ' · '),
      h('time', { datetime: show.perf.starts_at }, formatDate(show.perf.starts_at))),
    ...extra);
}

/** "Order number ord_…" (예매번호), shown wherever an order is. */
export function orderNumber(id: string): HTMLElement {
  return h('p', { class: 'order-no', 'data-testid': 'order-number' }, t('order.number'), ' ', h('strong', {}, id));
}
