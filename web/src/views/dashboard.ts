import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { call, type EventInfo, type Performance, type Stats } from '../api';
import { field, h, message } from '../dom';
import { clockLabel, formatDate, t, type Key } from '../i18n';
import { isoToKstInput, kstInputToIso, msToSeconds, secondsToMs } from '../logic/kst';
import { parseIdleTimeout, parsePresenceTimeout } from '../logic/presence';
import { showCard } from './context';
import { Series } from '../logic/series';
import { ServerFields } from '../logic/server-fields';
import { every, type ViewCtx } from '../router';
import { errorBox } from './common';
import { requireAdmin } from './admin-home';

const STATS_MS = 1000;
const WINDOW_S = 300;   // five minutes of history on the charts

/** The inner width of a chart's card (its padding off), at least a phone's. */
function chartWidth(box: HTMLElement): number {
  const cs = getComputedStyle(box);
  return Math.max(240, Math.floor(box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)));
}

interface ChartDef { title: Key; series: { label: Key; color: string; pick: (s: Series) => number[] }[] }

export async function dashboardView({ main, params, signal }: ViewCtx): Promise<void> {
  const token = requireAdmin(main);
  if (!token) return;
  const pid = params.pid;
  const url = `/v1/admin/performances/${encodeURIComponent(pid)}`;
  main.appendChild(h('h1', {}, t('admin.dash.title')));
  const head = h('p', { class: 'muted' });
  const statusEl = h('strong', { 'data-testid': 'dash-status' });
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'dash-out' });
  main.appendChild(head);

  let perf: Performance;
  try { perf = (await call<Performance>('GET', url, { session: token, signal })).data; }
  catch (e) { main.appendChild(errorBox(e)); return; }
  // Which show this is: the event's title and venue, the date in KST.
  const card = h('div');
  main.insertBefore(card, head);
  let event: EventInfo | null = null;
  const showEvent = () => { if (event) card.replaceChildren(showCard({ perf, title: event.title, venue: event.venue.name })); };
  try {
    event = (await call<EventInfo>('GET', `/v1/events/${encodeURIComponent(perf.event_id)}`, { signal })).data;
    showEvent();
  } catch { /* the dashboard works without it */ }

  // ---- controls ----
  const admit = h('input', { type: 'number', min: 1, name: 'admit_per_interval', required: true });
  const interval = h('input', { type: 'number', min: 0.05, max: 60, step: 0.05, name: 'interval_s', required: true, inputmode: 'decimal' });
  const maxActive = h('input', { type: 'number', min: 1, name: 'max_active', required: true });
  const presence = h('input', { type: 'number', min: 0, max: 3600, step: 1, name: 'presence_timeout_seconds', required: true, inputmode: 'numeric' });
  const idle = h('input', { type: 'number', min: 0, max: 3600, step: 1, name: 'idle_timeout_seconds', required: true, inputmode: 'numeric' });
  // The periodic refresh must not undo what the operator is typing into the admission settings.
  const fields = new ServerFields();
  let fills = 0;
  const fill = (force = false) => {
    head.replaceChildren(formatDate(perf.starts_at), ' · ', t('admin.dash.status', { status: '' }), statusEl);
    statusEl.textContent = t(`status.${perf.status}` as Key);
    statusEl.className = `badge st-${perf.status}`;
    if (perf.queue) {
      fields.write(admit, String(perf.queue.admit_per_interval), force);
      fields.write(interval, msToSeconds(perf.queue.interval_ms), force);
      fields.write(maxActive, String(perf.queue.max_active), force);
      fields.write(presence, String(perf.queue.presence_timeout_seconds ?? 0), force);
      fields.write(idle, String(perf.queue.idle_timeout_seconds ?? 0), force);
    }
    openBtn.hidden = perf.status !== 'scheduled';
    pauseBtn.hidden = perf.status !== 'on_sale';
    resumeBtn.hidden = perf.status !== 'paused';
    closeBtn.hidden = perf.status === 'closed';
    queueForm.dataset.filled = String(++fills);
  };
  const patch = async (body: unknown, ownFields = false) => {
    try {
      perf = (await call<Performance>('PATCH', url, { session: token, body })).data;
      out.replaceChildren(message('success', t('admin.dash.updated'), 'dash-updated'));
      fill(ownFields);
      showEvent();
    } catch (e) { out.replaceChildren(errorBox(e)); }
  };
  const openBtn = h('button', { type: 'button', 'data-testid': 'open-sale', onclick: () => void patch({ status: 'on_sale' }) }, t('admin.dash.open'));
  const pauseBtn = h('button', { type: 'button', 'data-testid': 'pause-sale', onclick: () => void patch({ status: 'paused' }) }, t('admin.dash.pause'));
  const resumeBtn = h('button', { type: 'button', 'data-testid': 'resume-sale', onclick: () => void patch({ status: 'on_sale' }) }, t('admin.dash.resume'));
  const closeBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'close-sale', onclick: () => void patch({ status: 'closed' }) }, t('admin.dash.close'));
  const queueForm = h('form', { class: 'grid3', 'data-testid': 'queue-form' }, field(t('admin.queue.admit'), admit), field(t('admin.queue.interval'), interval),
    field(t('admin.queue.max_active'), maxActive), field(t('admin.queue.presence'), presence), field(t('admin.queue.idle'), idle),
    h('button', { type: 'submit' }, t('admin.dash.apply')));
  queueForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const presenceS = parsePresenceTimeout(presence.value);
    if (presenceS === null) { out.replaceChildren(message('error', t('admin.queue.presence_bad'), 'error')); presence.focus(); return; }
    const idleS = parseIdleTimeout(idle.value);
    if (idleS === null) { out.replaceChildren(message('error', t('admin.queue.idle_bad'), 'error')); idle.focus(); return; }
    void patch({ queue: { admit_per_interval: Number(admit.value), interval_ms: secondsToMs(interval.value), max_active: Number(maxActive.value),
      presence_timeout_seconds: presenceS, idle_timeout_seconds: idleS } }, true);
  });
  // Dates and sale settings, correctable after creation (times typed in KST).
  const starts = h('input', { type: 'datetime-local', name: 'starts_at', required: true });
  const opens = h('input', { type: 'datetime-local', name: 'sale_opens_at', required: true });
  const perOrder = h('input', { type: 'number', name: 'max_seats_per_order', min: 1, max: 20, required: true });
  const perAccount = h('input', { type: 'number', name: 'max_seats_per_account', min: 1, max: 1000, required: true });
  const holdTtl = h('input', { type: 'number', name: 'hold_ttl_seconds', min: 1, max: 3600, required: true });
  const fillSale = () => {
    starts.value = isoToKstInput(perf.starts_at);
    opens.value = isoToKstInput(perf.sale_opens_at);
    perOrder.value = String(perf.max_seats_per_order);
    perAccount.value = String(perf.max_seats_per_account);
    holdTtl.value = String(perf.hold_ttl_seconds);
  };
  const saleForm = h('form', { class: 'grid3 wide', 'data-testid': 'sale-form', 'aria-label': t('admin.dash.sale') },
    field(t('admin.perf.starts'), starts), field(t('admin.perf.opens'), opens), field(t('admin.perf.per_order'), perOrder),
    field(t('admin.perf.per_account'), perAccount), field(t('admin.perf.hold_ttl'), holdTtl), h('button', { type: 'submit' }, t('common.save')));
  saleForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const startsAt = kstInputToIso(starts.value);
    const opensAt = kstInputToIso(opens.value);
    if (!startsAt || !opensAt) { out.replaceChildren(message('error', t('admin.perf.bad_time'), 'error')); return; }
    void patch({ starts_at: startsAt, sale_opens_at: opensAt, max_seats_per_order: Number(perOrder.value),
      max_seats_per_account: Number(perAccount.value), hold_ttl_seconds: Number(holdTtl.value) }).then(fillSale);
  });
  main.appendChild(h('section', { class: 'card', 'aria-labelledby': 'ch' }, h('h2', { id: 'ch' }, t('admin.dash.controls')),
    h('div', { class: 'row-buttons' }, openBtn, pauseBtn, resumeBtn, closeBtn), queueForm,
    h('h3', {}, t('admin.dash.sale')), saleForm, out));
  fill();
  fillSale();

  // ---- numbers ----
  const tiles: [Key, (s: Stats, r: { expiry: number }) => string, string][] = [
    ['admin.dash.waiting', (s) => String(s.waiting), 'waiting'],
    ['admin.dash.admission_rate', (s) => s.admission_rate_per_s.toFixed(1), 'admission-rate'],
    ['admin.dash.active', (s) => String(s.active), 'active'],
    ['admin.dash.holds', (s) => String(s.holds_active), 'holds'],
    ['admin.dash.expiry_rate', (_s, r) => r.expiry.toFixed(2), 'expiry-rate'],
    ['admin.dash.available', (s) => String(s.seats.available), 'available'],
    ['admin.dash.held', (s) => String(s.seats.held), 'held'],
    ['admin.dash.sold', (s) => String(s.seats.sold), 'sold'],
    ['admin.dash.orders_paid', (s) => String(s.orders_paid), 'orders-paid'],
  ];
  const tileEls = tiles.map(([, , id]) => h('dd', { 'data-testid': `stat-${id}` }, '–'));
  main.appendChild(h('dl', { class: 'tiles' }, tiles.map(([k], i) => h('div', { class: 'tile' }, h('dt', {}, t(k)), tileEls[i]))));

  // ---- charts ----
  const series = new Series(WINDOW_S);
  const defs: ChartDef[] = [
    { title: 'admin.dash.chart.queue', series: [
      { label: 'admin.dash.waiting', color: '#1d4ed8', pick: (s) => s.waiting },
      { label: 'admin.dash.active', color: '#b35900', pick: (s) => s.active },
      { label: 'admin.dash.holds', color: '#007a5a', pick: (s) => s.holds } ] },
    { title: 'admin.dash.chart.rates', series: [
      { label: 'admin.dash.admission_rate', color: '#5b4bb7', pick: (s) => s.admissionRate },
      { label: 'admin.dash.expiry_rate', color: '#a3367a', pick: (s) => s.expiryRate } ] },
    { title: 'admin.dash.chart.seats', series: [
      { label: 'admin.dash.available', color: '#007a5a', pick: (s) => s.available },
      { label: 'admin.dash.held', color: '#b35900', pick: (s) => s.held },
      { label: 'admin.dash.sold', color: '#374151', pick: (s) => s.sold } ] },
    { title: 'admin.dash.chart.orders', series: [
      { label: 'admin.dash.orders_paid', color: '#1d4ed8', pick: (s) => s.ordersPaid } ] },
  ];
  const grid = h('div', { class: 'charts' });
  main.appendChild(grid);
  const charts = defs.map((d, i) => {
    const box = h('figure', { class: 'chart card', 'data-testid': `chart-${i}` }, h('figcaption', {}, t(d.title)));
    grid.appendChild(box);
    const plot = new uPlot({
      width: chartWidth(box), height: 200,
      scales: { x: { time: true } },
      series: [{ value: (_u, v) => (v == null ? '–' : clockLabel(v, true)) },
        ...d.series.map((x) => ({ label: t(x.label), stroke: x.color, width: 2, points: { show: false } }))],
      // Times of day in KST, 24-hour, in every language; the labels drawn are mirrored on the
      // figure (data-x-ticks), since a canvas has no text to read.
      axes: [{ values: (_u, splits) => {
        const labels = splits.map((v) => clockLabel(v, splits.length < 2 || splits[1] - splits[0] < 60));
        box.setAttribute('data-x-ticks', JSON.stringify(labels));
        return labels;
      } }, { size: 50 }],
      legend: { show: true, live: false },
    }, [[], ...d.series.map(() => [])], box);
    return { d, plot };
  });
  const resize = () => { for (const c of charts) c.plot.setSize({ width: chartWidth(c.plot.root.parentElement as HTMLElement), height: 200 }); };
  window.addEventListener('resize', resize);
  signal.addEventListener('abort', () => { window.removeEventListener('resize', resize); for (const c of charts) c.plot.destroy(); }, { once: true });

  let n = 0;
  every(signal, STATS_MS, async () => {
    try {
      const { data } = await call<Stats>('GET', `${url}/stats`, { session: token, signal });
      const r = series.push(Date.now() / 1000, data);
      tiles.forEach(([, f], i) => { tileEls[i].textContent = f(data, { expiry: r.expiryRate }); });
      for (const c of charts) c.plot.setData([series.t, ...c.d.series.map((x) => x.pick(series))] as uPlot.AlignedData);
      grid.setAttribute('data-points', String(series.t.length));
      if (++n % 5 === 0) { perf = (await call<Performance>('GET', url, { session: token, signal })).data; fill(); }
    } catch (e) {
      if ((e as Error)?.name !== 'AbortError') out.replaceChildren(errorBox(e));
    }
  });
}
