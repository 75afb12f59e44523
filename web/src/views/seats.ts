import { ApiError, call, serverSkewMs, type Hold, type Order, type Performance, type SeatStates } from '../api';
import { h, message, s } from '../dom';
import { formatMoney, t, type Key } from '../i18n';
import { formatCountdown, remainingMs, urgency } from '../logic/countdown';
import { gradeColors, layoutGeometry, seatIndex, type Layout } from '../logic/layout';
import { clearQueue, loadAccess } from '../logic/queue-store';
import { pruneSelection, selectionLimit, selectionTotal, toggleSeat, type SeatState } from '../logic/selection';
import { every, navigate, type ViewCtx } from '../router';
import { announce, errorBox, handleAuthError, requireSession } from './common';

const REFRESH_MS = 2000;

export async function seatsView({ main, params, signal }: ViewCtx): Promise<void> {
  const sess = requireSession();
  if (!sess) return;
  const pid = params.pid;
  const queueUrl = `/p/${encodeURIComponent(pid)}/queue`;
  const access = loadAccess(localStorage, pid);
  if (!access) { navigate(queueUrl, true); return; }

  main.appendChild(h('h1', {}, t('seats.title')));
  const notice = h('div', { 'aria-live': 'assertive', 'data-testid': 'seat-notice' });
  main.appendChild(notice);
  let perf: Performance;
  let layout: Layout;
  try {
    perf = (await call<Performance>('GET', `/v1/performances/${encodeURIComponent(pid)}`, { signal })).data;
    layout = (await call<Layout>('GET', `/v1/venues/${encodeURIComponent(perf.venue_id)}/layout`, { signal })).data;
  } catch (e) {
    notice.replaceChildren(errorBox(e));
    return;
  }
  const index = seatIndex(layout);
  const geo = layoutGeometry(layout);
  const colors = gradeColors(perf.price_grades, [...index.values()].map((x) => x.grade));
  const priceOf = new Map(perf.price_grades.map((g) => [g.grade, g]));
  const gradeOf = new Map([...index].map(([id, x]) => [id, x.grade]));
  const currency = perf.price_grades[0]?.currency ?? 'KRW';
  const limit = selectionLimit(perf.max_seats_per_order, perf.max_seats_per_account);
  const describe = (id: string) => {
    const x = index.get(id);
    return x ? t('seats.seat_short', { section: x.section, row: x.row, number: x.number }) : id;
  };

  const states = new Map<string, SeatState>();
  let selected: string[] = [];
  let hold: Hold | null = null;
  try { hold = JSON.parse(localStorage.getItem(`tk.hold.${pid}`) ?? 'null') as Hold | null; } catch { hold = null; }
  if (hold && remainingMs(hold.expires_at, Date.now(), serverSkewMs) <= 0) hold = null;

  // ---- the map ----
  const svg = s('svg', { viewBox: `0 0 ${geo.width} ${geo.height}`, class: 'seatmap', role: 'group', 'aria-label': t('seats.title'), 'data-testid': 'seat-map' });
  svg.appendChild(s('rect', { x: geo.stage.x, y: geo.stage.y, width: geo.stage.w, height: geo.stage.h, rx: 6, class: 'stage' }));
  svg.appendChild(s('text', { x: geo.stage.x + geo.stage.w / 2, y: geo.stage.y + geo.stage.h / 2, class: 'stage-label' }, t('seats.stage')));
  for (const l of geo.sectionLabels) svg.appendChild(s('text', { x: l.x, y: l.y, class: 'section-label' }, l.text));
  for (const l of geo.rowLabels) svg.appendChild(s('text', { x: l.x, y: l.y, class: 'row-label', 'aria-hidden': 'true' }, l.text));
  const seatEls = new Map<string, SVGElement>();
  for (const b of geo.seats) {
    const el = s('rect', { x: b.x, y: b.y, width: b.size, height: b.size, rx: 5, fill: colors.get(b.grade) ?? '#555',
      class: 'seat', role: 'checkbox', 'aria-checked': 'false', 'data-seat': b.id, 'data-testid': `seat-${b.section}-${b.row}-${b.number}` });
    el.addEventListener('click', () => clickSeat(b.id));
    el.addEventListener('keydown', (e) => {
      const k = (e as KeyboardEvent).key;
      if (k === 'Enter' || k === ' ') { e.preventDefault(); clickSeat(b.id); }
    });
    seatEls.set(b.id, el);
    svg.appendChild(el);
  }
  const mapBox = h('div', { class: 'seatmap-box' });
  mapBox.appendChild(svg);

  const legend = h('ul', { class: 'legend', 'aria-label': t('seats.legend') },
    perf.price_grades.map((g) => h('li', {}, h('span', { class: 'chip', style: `background:${colors.get(g.grade)}` }), `${g.grade} ${formatMoney(g.price_cents, g.currency)}`)),
    (['held', 'sold', 'selected'] as const).map((st) => h('li', {}, h('span', { class: `chip chip-${st}` }), t(`seats.${st}` as Key))));

  // ---- side panel ----
  const selInfo = h('p', { 'data-testid': 'selection-info' });
  const totalInfo = h('p', { class: 'total' });
  const holdBtn = h('button', { type: 'button', 'data-testid': 'hold-button' }, t('seats.hold'));
  const selectPanel = h('div', {}, h('p', { class: 'muted small' }, t('seats.limit', { n: limit })), selInfo, totalInfo, holdBtn);
  const countdown = h('output', { class: 'countdown', 'data-testid': 'hold-countdown', 'aria-live': 'off' });
  const holdSeats = h('ul', { class: 'seat-list' });
  const holdTotal = h('p', { class: 'total' });
  const releaseBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'release-button' }, t('seats.release'));
  const checkoutBtn = h('button', { type: 'button', 'data-testid': 'checkout-button' }, t('seats.checkout'));
  const holdPanel = h('div', { class: 'hold', 'data-testid': 'hold-panel' },
    h('p', {}, t('seats.held_for')), countdown, holdSeats, holdTotal, h('div', { class: 'row-buttons' }, releaseBtn, checkoutBtn));
  const panel = h('aside', { class: 'card panel' }, selectPanel, holdPanel);
  main.appendChild(h('div', { class: 'seat-layout' }, h('div', {}, mapBox, legend), panel));

  const paint = () => {
    for (const [id, el] of seatEls) {
      const st = states.get(id) ?? 'sold';
      const mine = hold?.seat_ids.includes(id) ?? false;
      const sel = selected.includes(id) || mine;
      el.setAttribute('class', `seat ${mine ? 'mine' : st}${sel ? ' selected' : ''}`);
      el.setAttribute('aria-checked', String(sel));
      const usable = !hold && (st === 'available' || sel);
      el.setAttribute('tabindex', usable ? '0' : '-1');
      el.setAttribute('aria-disabled', String(!usable));
      const x = index.get(id);
      const g = x ? priceOf.get(x.grade) : undefined;
      el.setAttribute('aria-label', t('seats.seat_label', {
        section: x?.section ?? '', row: x?.row ?? '', number: x?.number ?? '', grade: x?.grade ?? '',
        price: g ? formatMoney(g.price_cents, g.currency) : '',
        state: t(sel ? 'seats.selected' : (`seats.${st}` as Key)) }));
    }
    selInfo.textContent = t('seats.selection', { n: selected.length, max: limit });
    totalInfo.textContent = t('seats.total', { amount: formatMoney(selectionTotal(selected, gradeOf, perf.price_grades), currency) });
    holdBtn.disabled = selected.length === 0;
    selectPanel.hidden = !!hold;
    holdPanel.hidden = !hold;
    if (hold) {
      holdSeats.replaceChildren(...hold.seat_ids.map((id) => h('li', {}, describe(id))));
      holdTotal.textContent = t('seats.total', { amount: formatMoney(selectionTotal(hold.seat_ids, gradeOf, perf.price_grades), currency) });
    }
  };

  function clickSeat(id: string) {
    if (hold) return;
    const r = toggleSeat(selected, id, states.get(id), limit);
    if (r.refused === 'limit') notice.replaceChildren(message('warning', t('seats.limit_reached', { n: limit }), 'seat-limit'));
    else if (r.refused === 'unavailable') notice.replaceChildren(message('warning', t('seats.not_available')));
    else notice.replaceChildren();
    selected = r.selected;
    paint();
  }

  const accessGone = () => {
    clearQueue(localStorage, pid);
    notice.replaceChildren(message('error', t('seats.access_gone'), 'seat-error'), h('a', { href: queueUrl, class: 'button' }, t('queue.title')));
  };

  const refresh = async () => {
    try {
      const { data } = await call<SeatStates>('GET', `/v1/performances/${encodeURIComponent(pid)}/seats`, { session: sess.token, access: access.token, signal });
      states.clear();
      for (const x of data.seats) states.set(x.id, x.state);
      const { kept, lost } = pruneSelection(selected, states);
      if (lost.length) {
        selected = kept;
        notice.replaceChildren(message('warning', t('seats.lost', { seats: lost.map(describe).join(', ') }), 'seat-error'));
      }
      paint();
    } catch (e) {
      if ((e as Error)?.name === 'AbortError' || handleAuthError(e)) return;
      if (e instanceof ApiError && e.status === 403) { accessGone(); return; }
      notice.replaceChildren(errorBox(e));
    }
  };

  const setHold = (x: Hold | null) => {
    hold = x;
    if (x) localStorage.setItem(`tk.hold.${pid}`, JSON.stringify(x)); else localStorage.removeItem(`tk.hold.${pid}`);
    paint();
  };

  holdBtn.addEventListener('click', async () => {
    holdBtn.disabled = true;
    notice.replaceChildren();
    try {
      const { data } = await call<Hold>('POST', `/v1/performances/${encodeURIComponent(pid)}/holds`,
        { session: sess.token, access: access.token, body: { seat_ids: selected } });
      selected = [];
      setHold(data);
      announce(t('seats.held_for'));
      checkoutBtn.focus();
    } catch (e) {
      if (handleAuthError(e)) return;
      if (e instanceof ApiError && e.code === 'seats_unavailable') {
        const ids = ((e.details as { seat_ids?: string[] }).seat_ids ?? selected);
        selected = selected.filter((x) => !ids.includes(x));
        notice.replaceChildren(message('error', t('seats.taken', { seats: ids.map(describe).join(', ') }), 'seat-error'));
        await refresh();
      } else if (e instanceof ApiError && e.status === 403) {
        accessGone();
      } else {
        notice.replaceChildren(errorBox(e));
      }
      paint();
    }
  });

  releaseBtn.addEventListener('click', async () => {
    if (!hold) return;
    try {
      await call('DELETE', `/v1/holds/${encodeURIComponent(hold.hold_id)}`, { session: sess.token });
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) { notice.replaceChildren(errorBox(e)); return; }
    }
    setHold(null);
    await refresh();
  });

  checkoutBtn.addEventListener('click', async () => {
    if (!hold) return;
    checkoutBtn.disabled = true;
    try {
      const { data } = await call<Order>('POST', '/v1/orders', { session: sess.token, body: { hold_id: hold.hold_id } });
      navigate(`/orders/${encodeURIComponent(data.id)}`);
    } catch (e) {
      checkoutBtn.disabled = false;
      if (handleAuthError(e)) return;
      if (e instanceof ApiError && e.code === 'hold_expired') setHold(null);
      notice.replaceChildren(errorBox(e));
    }
  });

  // Countdown of the hold, four times a second.
  every(signal, 250, () => {
    if (!hold) return;
    const ms = remainingMs(hold.expires_at, Date.now(), serverSkewMs);
    countdown.textContent = formatCountdown(ms);
    countdown.className = `countdown ${urgency(ms)}`;
    if (ms <= 0) {
      setHold(null);
      notice.replaceChildren(message('warning', t('seats.hold_expired'), 'hold-expired'));
      void refresh();
    }
  });
  paint();
  every(signal, REFRESH_MS, refresh);
}
