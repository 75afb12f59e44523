import { ApiError, call, serverSkewMs, type Hold, type Order, type Performance, type SeatStates, type SectionSummary } from '../api';
import { h, message, s } from '../dom';
import { formatMoney, t, type Key } from '../i18n';
import { WarningText, formatCountdown, remainingMs, urgency } from '../logic/countdown';
import { SEAT, gradeColors, layoutGeometry, seatIndex, type Layout } from '../logic/layout';
import { NAV_KEYS, SeatNavigator } from '../logic/seatnav';
import { MAX_ZOOM, ZOOM_STEP, anchoredScroll, baseScale, clampZoom, minZoom } from '../logic/zoom';
import { clearQueue, loadAccess } from '../logic/queue-store';
import { pruneSelection, selectionLimit, selectionTotal, toggleSeat, type SeatState } from '../logic/selection';
import { noSeatFree } from '../logic/waitlist';
import { every, navigate, type ViewCtx } from '../router';
import { announce, checkout, errorBox, handleAuthError, requireSession } from './common';
import { loadShow, showCard } from './context';

const REFRESH_MS = 2000;
/** From this many seats (and more than one section) the buyer picks a section first. */
const BIG_VENUE_SEATS = 1000;

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
    const show = await loadShow(pid, signal);
    perf = show.perf;
    main.insertBefore(showCard(show), notice);
    layout = (await call<Layout>('GET', `/v1/venues/${encodeURIComponent(perf.venue_id)}/layout`, { signal })).data;
  } catch (e) {
    notice.replaceChildren(errorBox(e));
    return;
  }
  const index = seatIndex(layout);
  let geo = layoutGeometry(layout);
  const colors = gradeColors(perf.price_grades, [...index.values()].map((x) => x.grade));
  const priceOf = new Map(perf.price_grades.map((g) => [g.grade, g]));
  const gradeOf = new Map([...index].map(([id, x]) => [id, x.grade]));
  const currency = perf.price_grades[0]?.currency ?? 'KRW';
  // The account's seats already bought or awaiting payment for this performance count against
  // max_seats_per_account, as the server counts them.
  let owned = 0;
  let limit = selectionLimit(perf.max_seats_per_order, perf.max_seats_per_account);
  const ownedInfo = h('p', { class: 'muted small', 'data-testid': 'seat-owned', hidden: true });
  const limitInfo = h('p', { class: 'muted small' });
  const refreshOwned = async () => {
    try {
      const { data } = await call<{ orders: Order[] }>('GET', '/v1/me/orders', { session: sess.token, signal });
      owned = data.orders.filter((o) => o.performance_id === pid && (o.status === 'paid' || o.status === 'pending'))
        .reduce((n, o) => n + o.seat_ids.length, 0);
    } catch { /* the server still enforces the limit */ }
    limit = selectionLimit(perf.max_seats_per_order, perf.max_seats_per_account, owned);
    ownedInfo.hidden = owned === 0;
    ownedInfo.textContent = limit > 0 ? t('seats.owned', { n: owned, left: limit }) : t('seats.owned_max', { n: owned });
    limitInfo.textContent = t('seats.limit', { n: limit });
  };
  await refreshOwned();
  const describe = (id: string) => {
    const x = index.get(id);
    return x ? t('seats.seat_short', { section: x.section, row: x.row, number: x.number }) : id;
  };

  const states = new Map<string, SeatState>();
  let selected: string[] = [];
  let hold: Hold | null = null;
  try { hold = JSON.parse(localStorage.getItem(`tk.hold.${pid}`) ?? 'null') as Hold | null; } catch { hold = null; }
  if (hold && remainingMs(hold.expires_at, Date.now(), serverSkewMs) <= 0) hold = null;

  // ---- the map: the whole venue, or for a big one the section the buyer chose ----
  const svg = s('svg', { class: 'seatmap', role: 'group', 'aria-label': t('seats.title'), 'data-testid': 'seat-map' });
  const seatEls = new Map<string, SVGElement>();
  // One Tab stop for the whole map (a roving tab index): the seat last focused, else the first
  // free one; arrows move from there.
  let nav = new SeatNavigator([]);
  let current: string | null = null;
  const setCurrent = (id: string) => {
    if (current === id) return;
    if (current) seatEls.get(current)?.setAttribute('tabindex', '-1');
    current = id;
    seatEls.get(id)?.setAttribute('tabindex', '0');
  };
  const buildMap = (part: Layout) => {
    geo = layoutGeometry(part);
    nav = new SeatNavigator(geo.seats);
    seatEls.clear();
    current = null;
    svg.replaceChildren();
    svg.setAttribute('viewBox', `0 0 ${geo.width} ${geo.height}`);
    svg.appendChild(s('rect', { x: geo.stage.x, y: geo.stage.y, width: geo.stage.w, height: geo.stage.h, rx: 6, class: 'stage' }));
    svg.appendChild(s('text', { x: geo.stage.x + geo.stage.w / 2, y: geo.stage.y + geo.stage.h / 2, class: 'stage-label' }, t('seats.stage')));
    for (const l of geo.sectionLabels) svg.appendChild(s('text', { x: l.x, y: l.y, class: 'section-label' }, l.text));
    for (const l of geo.rowLabels) svg.appendChild(s('text', { x: l.x, y: l.y, class: 'row-label', 'aria-hidden': 'true' }, l.text));
    for (const b of geo.seats) {
      const el = s('rect', { x: b.x, y: b.y, width: b.size, height: b.size, rx: 5, fill: colors.get(b.grade) ?? '#555',
        class: 'seat', role: 'checkbox', 'aria-checked': 'false', 'data-seat': b.id, 'data-testid': `seat-${b.section}-${b.row}-${b.number}` });
      el.addEventListener('click', () => clickSeat(b.id));
      el.addEventListener('focus', () => { setCurrent(b.id); showSeat(b.id); });
      el.addEventListener('mouseenter', () => showSeat(b.id));
      el.addEventListener('keydown', (e) => {
        const k = (e as KeyboardEvent).key;
        if (k === 'Enter' || k === ' ') { e.preventDefault(); clickSeat(b.id); return; }
        if (!NAV_KEYS.includes(k)) return;
        e.preventDefault();
        const next = nav.move(b.id, k);
        if (next) seatEls.get(next)?.focus();
      });
      seatEls.set(b.id, el);
      svg.appendChild(el);
    }
  };
  const mapBox = h('div', { class: 'seatmap-box', 'data-testid': 'seatmap-box' });
  mapBox.appendChild(svg);

  // ---- zoom and pan: buttons, ctrl/⌘ + wheel (and trackpad pinch), two-finger pinch; one finger
  // or the wheel pans (the box scrolls) ----
  let zoom = 1;
  let scale = 1;
  const zoomIn = h('button', { type: 'button', class: 'secondary small', 'aria-label': t('seats.zoom_in'), 'data-testid': 'zoom-in' }, '+');
  const zoomOut = h('button', { type: 'button', class: 'secondary small', 'aria-label': t('seats.zoom_out'), 'data-testid': 'zoom-out' }, '−');
  const zoomFit = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'zoom-fit' }, t('seats.zoom_fit'));
  const applyZoom = (z: number, at?: { x: number; y: number }) => {
    const boxW = mapBox.clientWidth - 16;
    const min = minZoom(boxW, geo.width, SEAT);
    const prev = scale;
    zoom = clampZoom(z, min);
    scale = baseScale(boxW, geo.width, SEAT) * zoom;
    svg.setAttribute('width', String(Math.round(geo.width * scale)));
    svg.setAttribute('height', String(Math.round(geo.height * scale)));
    const p = at ?? { x: mapBox.clientWidth / 2, y: mapBox.clientHeight / 2 };
    mapBox.scrollLeft = anchoredScroll(mapBox.scrollLeft, p.x, prev, scale);
    mapBox.scrollTop = anchoredScroll(mapBox.scrollTop, p.y, prev, scale);
    zoomOut.disabled = zoom <= min + 1e-6;
    zoomIn.disabled = zoom >= MAX_ZOOM - 1e-6;
  };
  zoomIn.addEventListener('click', () => applyZoom(zoom * ZOOM_STEP));
  zoomOut.addEventListener('click', () => applyZoom(zoom / ZOOM_STEP));
  zoomFit.addEventListener('click', () => applyZoom(0));
  const boxPoint = (x: number, y: number) => {
    const r = mapBox.getBoundingClientRect();
    return { x: x - r.left, y: y - r.top };
  };
  mapBox.addEventListener('wheel', (e) => {
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    applyZoom(zoom * Math.exp(-e.deltaY / 300), boxPoint(e.clientX, e.clientY));
  }, { passive: false });
  const touches = new Map<number, { x: number; y: number }>();
  let pinch: { d: number; z: number } | null = null;
  const spread = () => { const [a, b] = [...touches.values()]; return Math.hypot(a.x - b.x, a.y - b.y) || 1; };
  mapBox.addEventListener('pointerdown', (e) => {
    if (e.pointerType !== 'touch') return;
    touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (touches.size === 2) pinch = { d: spread(), z: zoom };
  });
  mapBox.addEventListener('pointermove', (e) => {
    if (!touches.has(e.pointerId)) return;
    touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pinch && touches.size === 2) {
      const [a, b] = [...touches.values()];
      applyZoom(pinch.z * (spread() / pinch.d), boxPoint((a.x + b.x) / 2, (a.y + b.y) / 2));
    }
  });
  const lift = (e: PointerEvent) => { touches.delete(e.pointerId); if (touches.size < 2) pinch = null; };
  mapBox.addEventListener('pointerup', lift);
  mapBox.addEventListener('pointercancel', lift);
  const onResize = () => applyZoom(zoom);
  window.addEventListener('resize', onResize);
  signal.addEventListener('abort', () => window.removeEventListener('resize', onResize), { once: true });
  const mapTools = h('div', { class: 'map-tools', role: 'group', 'aria-label': t('seats.zoom') }, zoomOut, zoomIn, zoomFit);

  const legend = h('ul', { class: 'legend', 'aria-label': t('seats.legend') },
    perf.price_grades.map((g) => h('li', {}, h('span', { class: 'chip', style: `background:${colors.get(g.grade)}` }), `${g.grade} ${formatMoney(g.price_cents, g.currency)}`)),
    (['held', 'sold', 'selected', 'mine'] as const).map((st) => h('li', {}, h('span', { class: `chip chip-${st}` }), t(`seats.${st}` as Key))));

  // The seat under the pointer or in focus, in words with its price (the label screen readers
  // hear, shown to everyone; on a phone the last one touched).
  const seatInfo = h('p', { class: 'seat-info', 'aria-hidden': 'true', 'data-testid': 'seat-info' }, t('seats.hint'));
  let shownSeat: string | null = null;
  const showSeat = (id: string) => {
    shownSeat = id;
    seatInfo.textContent = seatEls.get(id)?.getAttribute('aria-label') ?? '';
  };

  // ---- big venues: a section overview first (per-section counts), then one section's seats ----
  const big = index.size > BIG_VENUE_SEATS && layout.sections.length > 1;
  let section: string | null = null;
  const sectionList = h('ul', { class: 'section-list' });
  const overview = h('section', { class: 'card section-overview', 'aria-labelledby': 'sech', 'data-testid': 'section-overview', hidden: true },
    h('h2', { id: 'sech' }, t('seats.sections')), h('p', { class: 'muted small' }, t('seats.sections_help')), sectionList);
  const sectionTitle = h('h2', { class: 'section-title', 'data-testid': 'section-title' });
  const backToSections = h('button', { type: 'button', class: 'secondary small', 'data-testid': 'all-sections' }, t('seats.all_sections'));
  const sectionBar = h('div', { class: 'section-bar', hidden: !big }, backToSections, sectionTitle);
  const showSections = (sums: SectionSummary['sections']) => {
    sectionList.replaceChildren(...sums.map((x) => h('li', {}, h('button', { type: 'button', class: 'section-pick secondary', 'data-section': x.name,
      'data-testid': `section-${x.name}`, onclick: () => chooseSection(x.name) },
      h('strong', {}, t('seats.section_name', { name: x.name })), ' ',
      h('span', {}, x.grades.map((g) => { const p = priceOf.get(g); return p ? `${g} ${formatMoney(p.price_cents, p.currency)}` : g; }).join(' · ')), ' ',
      h('span', { class: x.available ? 'avail' : 'avail none' }, t('seats.section_left', { n: x.available, total: x.seats }))))));
  };

  // ---- side panel ----
  const selInfo = h('p', { 'data-testid': 'selection-info' });
  const totalInfo = h('p', { class: 'total' });
  const holdBtn = h('button', { type: 'button', 'data-testid': 'hold-button' }, t('seats.hold'));
  const selSeats = h('ul', { class: 'seat-list', 'data-testid': 'selected-seats' });
  // Best available: the server chooses (adjacent in one row when possible).
  const bestCount = h('select', { id: 'best-count', 'data-testid': 'best-count' });
  const bestGrade = h('select', { id: 'best-grade', 'data-testid': 'best-grade' },
    h('option', { value: '' }, t('seats.best_any')),
    perf.price_grades.map((g) => h('option', { value: g.grade }, `${g.grade} ${formatMoney(g.price_cents, g.currency)}`)));
  const bestBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'best-button' }, t('seats.best_button'));
  const bestBox = h('section', { class: 'best-available', 'aria-labelledby': 'besth', 'data-testid': 'best-available' },
    h('h2', { id: 'besth' }, t('seats.best_title')), h('p', { class: 'muted small' }, t('seats.best_help')),
    h('label', { for: 'best-count' }, t('seats.best_count')), bestCount,
    h('label', { for: 'best-grade' }, t('seats.best_grade')), bestGrade, bestBtn);
  // Sold out (every seat sold or held by someone): the waiting list gets the seats that come back.
  let noneFree = false;
  const soldOutBox = h('div', { class: 'sold-out', hidden: true, 'data-testid': 'waitlist-offer' },
    message('info', t('waitlist.none_free')),
    h('p', {}, h('a', { href: `/p/${encodeURIComponent(pid)}/waitlist`, class: 'button', 'data-testid': 'waitlist-link' }, t('waitlist.join'))));
  const selectPanel = h('div', {}, soldOutBox, ownedInfo, limitInfo, selInfo, selSeats, totalInfo, holdBtn, bestBox);
  // "A · row 1 · seat 4: ₩150,000" for the panel's seat lists.
  const priced = (id: string) => {
    const g = priceOf.get(gradeOf.get(id) ?? '');
    return g ? t('order.seat_price', { seat: describe(id), price: formatMoney(g.price_cents, g.currency) }) : describe(id);
  };
  const countdown = h('output', { class: 'countdown', 'data-testid': 'hold-countdown', 'aria-live': 'off' });
  const holdSeats = h('ul', { class: 'seat-list' });
  const holdTotal = h('p', { class: 'total' });
  const releaseBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'release-button' }, t('seats.release'));
  const checkoutBtn = h('button', { type: 'button', 'data-testid': 'checkout-button' }, t('seats.checkout'));
  const holdWarn = h('p', { class: 'countdown-warning', 'aria-live': 'assertive', 'data-testid': 'hold-warning' });
  const warning = new WarningText((k) => { holdWarn.textContent = k ? t(k as Key) : ''; });
  const holdPanel = h('div', { class: 'hold', 'data-testid': 'hold-panel' },
    h('p', {}, t('seats.held_for')), countdown, holdWarn, holdSeats, holdTotal, h('div', { class: 'row-buttons' }, releaseBtn, checkoutBtn));
  const panel = h('aside', { class: 'card panel' }, selectPanel, holdPanel);
  const mapCol = h('div', { class: 'map-area' }, sectionBar, mapTools, mapBox, seatInfo, legend);
  main.appendChild(h('div', { class: 'seat-layout' }, h('div', { class: 'map-col' }, overview, mapCol), panel));
  const showMap = (part: Layout) => {
    buildMap(part);
    paint();
    applyZoom(1);
    mapBox.scrollLeft = (mapBox.scrollWidth - mapBox.clientWidth) / 2;   // the stage's centre in view
  };
  function chooseSection(name: string | null) {
    section = name;
    overview.hidden = name !== null;
    mapCol.hidden = name === null;
    if (name !== null) {
      sectionTitle.textContent = t('seats.section_name', { name });
      showMap({ sections: layout.sections.filter((x) => x.name === name) });
      void refresh().then(() => seatEls.get(current ?? '')?.focus());
    } else {
      void refresh().then(() => (sectionList.querySelector('button') as HTMLElement | null)?.focus());
    }
  }
  backToSections.addEventListener('click', () => chooseSection(null));

  const paint = () => {
    if (!current && states.size) {
      const first = geo.seats.find((b) => states.get(b.id) === 'available') ?? geo.seats[0];
      if (first) current = first.id;
    }
    for (const [id, el] of seatEls) {
      const st = states.get(id) ?? 'sold';
      // The buyer's own held seats look (and read) unlike both selected and others' seats.
      const mine = hold?.seat_ids.includes(id) ?? false;
      const sel = selected.includes(id) || mine;
      el.setAttribute('class', `seat ${mine ? 'mine' : st}${sel && !mine ? ' selected' : ''}`);
      el.setAttribute('aria-checked', String(sel));
      const usable = !hold && (st === 'available' || sel);
      el.setAttribute('tabindex', id === current ? '0' : '-1');
      el.setAttribute('aria-disabled', String(!usable));
      const x = index.get(id);
      const g = x ? priceOf.get(x.grade) : undefined;
      el.setAttribute('aria-label', t('seats.seat_label', {
        section: x?.section ?? '', row: x?.row ?? '', number: x?.number ?? '', grade: x?.grade ?? '',
        price: g ? formatMoney(g.price_cents, g.currency) : '',
        state: t(mine ? 'seats.mine' : sel ? 'seats.selected' : (`seats.${st}` as Key)) }));
    }
    if (shownSeat) showSeat(shownSeat);
    selInfo.textContent = t('seats.selection', { n: selected.length, max: limit });
    selSeats.replaceChildren(...selected.map((id) => h('li', {}, priced(id))));
    totalInfo.textContent = t('seats.total', { amount: formatMoney(selectionTotal(selected, gradeOf, perf.price_grades), currency) });
    holdBtn.disabled = selected.length === 0 || limit === 0;
    if (bestCount.options.length !== limit) {
      const keep = Number(bestCount.value) || 1;
      bestCount.replaceChildren(...Array.from({ length: limit }, (_, i) => h('option', { value: String(i + 1) }, String(i + 1))));
      bestCount.value = String(Math.min(keep, Math.max(limit, 1)));
    }
    bestBtn.disabled = limit === 0;
    selectPanel.hidden = !!hold;
    holdPanel.hidden = !hold;
    soldOutBox.hidden = !noneFree;
    if (hold) {
      holdSeats.replaceChildren(...hold.seat_ids.map((id) => h('li', {}, priced(id))));
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
      const base = `/v1/performances/${encodeURIComponent(pid)}`;
      if (big && section === null) {
        const { data } = await call<SectionSummary>('GET', `${base}/sections`, { session: sess.token, access: access.token, signal });
        showSections(data.sections);
        noneFree = data.sections.length > 0 && data.sections.every((x) => x.available === 0);
        paint();
        return;
      }
      const q = big && section !== null ? `?section=${encodeURIComponent(section)}` : '';
      const { data } = await call<SeatStates>('GET', `${base}/seats${q}`, { session: sess.token, access: access.token, signal });
      states.clear();
      for (const x of data.seats) states.set(x.id, x.state);
      // One section's seats say nothing of the others: the overview's counts decide there.
      if (!big) noneFree = noSeatFree(states.values());
      // Seats chosen in another section stay chosen; those in view must still be free.
      const inView = selected.filter((id) => seatEls.has(id));
      const { kept, lost } = pruneSelection(inView, states);
      if (lost.length) {
        selected = [...selected.filter((id) => !seatEls.has(id)), ...kept];
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

  // One hold request (chosen seats or best available); `taken` says what to tell the buyer when
  // the seats were no longer free.
  const takeHold = async (btn: HTMLButtonElement, body: unknown, taken: (e: ApiError) => string) => {
    btn.disabled = true;
    notice.replaceChildren();
    try {
      const { data } = await call<Hold>('POST', `/v1/performances/${encodeURIComponent(pid)}/holds`,
        { session: sess.token, access: access.token, body });
      selected = [];
      setHold(data);
      announce(t('seats.held_for'));
      checkoutBtn.focus();
    } catch (e) {
      if (handleAuthError(e)) return;
      if (e instanceof ApiError && e.code === 'seats_unavailable') {
        notice.replaceChildren(message('error', taken(e), 'seat-error'));
        await refresh();
      } else if (e instanceof ApiError && e.status === 403) {
        accessGone();
      } else {
        notice.replaceChildren(errorBox(e));
      }
      paint();
    }
  };

  bestBtn.addEventListener('click', () => {
    const count = Number(bestCount.value) || 1;
    const want: { count: number; grade?: string; section?: string } = { count };
    if (bestGrade.value) want.grade = bestGrade.value;
    if (big && section !== null) want.section = section;
    void takeHold(bestBtn, { best_available: want }, () => t('seats.best_none', { n: count }));
  });

  holdBtn.addEventListener('click', () => {
    void takeHold(holdBtn, { seat_ids: selected }, (e) => {
      const ids = ((e.details as { seat_ids?: string[] }).seat_ids ?? selected);
      selected = selected.filter((x) => !ids.includes(x));
      return t('seats.taken', { seats: ids.map(describe).join(', ') });
    });
  });

  releaseBtn.addEventListener('click', async () => {
    if (!hold) return;
    try {
      await call('DELETE', `/v1/holds/${encodeURIComponent(hold.hold_id)}`, { session: sess.token });
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) { notice.replaceChildren(errorBox(e)); return; }
    }
    setHold(null);
    await refreshOwned();
    await refresh();
  });

  checkoutBtn.addEventListener('click', async () => {
    if (!hold) return;
    checkoutBtn.disabled = true;
    try {
      await checkout(sess.token, pid, hold.hold_id);
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
    warning.update(ms);
    if (ms <= 0) {
      setHold(null);
      notice.replaceChildren(message('warning', t('seats.hold_expired'), 'hold-expired'));
      void refreshOwned().then(refresh);
    }
  });
  if (big) { overview.hidden = false; mapCol.hidden = true; } else showMap(layout);
  paint();
  every(signal, REFRESH_MS, refresh);
}
