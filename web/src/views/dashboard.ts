import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { call, type Performance, type Stats } from '../api';
import { field, h, message } from '../dom';
import { formatDate, t, type Key } from '../i18n';
import { Series } from '../logic/series';
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

  // ---- controls ----
  const admit = h('input', { type: 'number', min: 1, name: 'admit_per_interval', required: true });
  const interval = h('input', { type: 'number', min: 50, max: 60000, name: 'interval_ms', required: true });
  const maxActive = h('input', { type: 'number', min: 1, name: 'max_active', required: true });
  const fill = () => {
    head.replaceChildren(formatDate(perf.starts_at), ' · ', t('admin.dash.status', { status: '' }), statusEl);
    statusEl.textContent = t(`status.${perf.status}` as Key);
    statusEl.className = `badge st-${perf.status}`;
    if (perf.queue) {
      admit.value = String(perf.queue.admit_per_interval);
      interval.value = String(perf.queue.interval_ms);
      maxActive.value = String(perf.queue.max_active);
    }
    openBtn.hidden = perf.status !== 'scheduled';
    pauseBtn.hidden = perf.status !== 'on_sale';
    resumeBtn.hidden = perf.status !== 'paused';
    closeBtn.hidden = perf.status === 'closed';
  };
  const patch = async (body: unknown) => {
    try {
      perf = (await call<Performance>('PATCH', url, { session: token, body })).data;
      out.replaceChildren(message('success', t('admin.dash.updated'), 'dash-updated'));
      fill();
    } catch (e) { out.replaceChildren(errorBox(e)); }
  };
  const openBtn = h('button', { type: 'button', 'data-testid': 'open-sale', onclick: () => void patch({ status: 'on_sale' }) }, t('admin.dash.open'));
  const pauseBtn = h('button', { type: 'button', 'data-testid': 'pause-sale', onclick: () => void patch({ status: 'paused' }) }, t('admin.dash.pause'));
  const resumeBtn = h('button', { type: 'button', 'data-testid': 'resume-sale', onclick: () => void patch({ status: 'on_sale' }) }, t('admin.dash.resume'));
  const closeBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'close-sale', onclick: () => void patch({ status: 'closed' }) }, t('admin.dash.close'));
  const queueForm = h('form', { class: 'grid3', 'data-testid': 'queue-form' }, field(t('admin.queue.admit'), admit), field(t('admin.queue.interval'), interval),
    field(t('admin.queue.max_active'), maxActive), h('button', { type: 'submit' }, t('admin.dash.apply')));
  queueForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void patch({ queue: { admit_per_interval: Number(admit.value), interval_ms: Number(interval.value), max_active: Number(maxActive.value) } });
  });
  main.appendChild(h('section', { class: 'card', 'aria-labelledby': 'ch' }, h('h2', { id: 'ch' }, t('admin.dash.controls')),
    h('div', { class: 'row-buttons' }, openBtn, pauseBtn, resumeBtn, closeBtn), queueForm, out));
  fill();

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
      series: [{}, ...d.series.map((x) => ({ label: t(x.label), stroke: x.color, width: 2, points: { show: false } }))],
      axes: [{}, { size: 50 }],
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
