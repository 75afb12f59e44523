import { call, type EventInfo } from '../api';
import { field, h, message, s } from '../dom';
import { t } from '../i18n';
import { parseVenueCsv, venueGrades, type VenueSectionInput } from '../logic/csv';
import type { ViewCtx } from '../router';
import { isoToKstInput, kstInputToIso, secondsToMs } from '../logic/kst';
import { gradeColors, layoutGeometry, type Layout } from '../logic/layout';
import { parseIdleTimeout, parsePresenceTimeout } from '../logic/presence';
import { errorBox } from './common';
import { requireAdmin } from './admin-home';

function num(name: string, value: number, min: number, max: number): HTMLInputElement {
  return h('input', { type: 'number', name, value, min, max, step: 1, required: true, inputmode: 'numeric' });
}

// Venues and events to choose from: the catalogue's, plus those made in this tab (a venue with
// no event yet is in no public list), kept in sessionStorage like the admin token.
interface Known { venues: { id: string; name: string }[]; events: { id: string; title: string; venueId: string }[] }
const KNOWN_KEY = 'tk.admin.known';
function knownHere(): Known {
  try { return { venues: [], events: [], ...(JSON.parse(sessionStorage.getItem(KNOWN_KEY) ?? '{}') as Partial<Known>) }; }
  catch { return { venues: [], events: [] }; }
}
function remember(f: (k: Known) => void): void {
  const k = knownHere();
  f(k);
  sessionStorage.setItem(KNOWN_KEY, JSON.stringify(k));
}

export async function adminCreateView({ main, signal }: ViewCtx): Promise<void> {
  const token = requireAdmin(main);
  if (!token) return;
  main.appendChild(h('h1', {}, t('admin.create')));
  let grades: string[] = [];

  // ---- venue: rows in a table form, or CSV ----
  const vname = h('input', { name: 'venue_name', required: true, maxlength: 200 });
  const rowsBody = h('tbody', {});
  const addRow = (sec = 'A', label = String(rowsBody.children.length + 1), seats = 10, grade = 'R') => {
    const tr = h('tr', {},
      h('td', {}, h('input', { name: 'section', value: sec, required: true, 'aria-label': t('admin.venue.section'), size: 6 })),
      h('td', {}, h('input', { name: 'row', value: label, required: true, 'aria-label': t('admin.venue.row'), size: 4 })),
      h('td', {}, h('input', { name: 'seats', type: 'number', min: 1, max: 1000, value: seats, required: true, 'aria-label': t('admin.venue.seats') })),
      h('td', {}, h('input', { name: 'grade', value: grade, required: true, 'aria-label': t('admin.venue.grade'), size: 4 })),
      h('td', {}, h('button', { type: 'button', class: 'secondary small', 'aria-label': t('admin.venue.remove_row'), onclick: () => { tr.remove(); renderPreview(); } }, '×')));
    rowsBody.appendChild(tr);
  };
  addRow('A', '1', 10, 'R'); addRow('A', '2', 10, 'S');
  const csvText = h('textarea', { name: 'csv', rows: 4, placeholder: 'section,row,seats,grade\nA,1,12,VIP' });
  const csvFile = h('input', { type: 'file', accept: '.csv,text/csv' });
  csvFile.addEventListener('change', async () => { const f = csvFile.files?.[0]; if (f) csvText.value = await f.text(); });
  const venueOut = h('div', { 'aria-live': 'polite', 'data-testid': 'venue-out' });
  const applyCsv = () => {
    const r = parseVenueCsv(csvText.value);
    if (r.errors.length) { venueOut.replaceChildren(message('error', r.errors.map((e) => `${e.line}: ${e.message}`).join('; '))); return false; }
    rowsBody.replaceChildren();
    for (const sec of r.sections) for (const row of sec.rows) addRow(sec.name, row.label, row.seats, row.grade);
    venueOut.replaceChildren();
    renderPreview();
    return true;
  };
  // A picture of the venue as typed or imported, before it is created.
  const preview = h('figure', { class: 'venue-preview', 'data-testid': 'venue-preview' });
  const renderPreview = () => {
    const sections: Layout['sections'] = [];
    for (const tr of Array.from(rowsBody.children)) {
      const v = (n: string) => (tr.querySelector(`[name=${n}]`) as HTMLInputElement).value.trim();
      const n = Math.min(1000, Math.max(0, Math.floor(Number(v('seats')) || 0)));
      let sec = sections.find((x) => x.name === v('section'));
      if (!sec) { sec = { name: v('section'), rows: [] }; sections.push(sec); }
      sec.rows.push({ label: v('row'), seats: Array.from({ length: n }, (_, i) => ({ id: `${sec!.name}-${v('row')}-${i}`, number: i + 1, grade: v('grade') })) });
    }
    const geo = layoutGeometry({ sections });
    const colors = gradeColors([], geo.seats.map((x) => x.grade));
    const svg = s('svg', { viewBox: `0 0 ${geo.width} ${geo.height}`, class: 'preview-map', role: 'img',
      'aria-label': t('admin.venue.preview_label', { n: geo.seats.length, s: sections.length }) },
      s('rect', { x: geo.stage.x, y: geo.stage.y, width: geo.stage.w, height: geo.stage.h, rx: 6, class: 'stage' }),
      geo.sectionLabels.map((l) => s('text', { x: l.x, y: l.y, class: 'section-label' }, l.text)),
      geo.seats.map((b) => s('rect', { x: b.x, y: b.y, width: b.size, height: b.size, rx: 4, fill: colors.get(b.grade) ?? '#555' })));
    preview.setAttribute('data-seats', String(geo.seats.length));
    preview.replaceChildren(h('figcaption', {}, t('admin.venue.preview'), ' — ', t('admin.venue.preview_label', { n: geo.seats.length, s: sections.length }),
      ' ', [...colors].map(([g, c]) => h('span', { class: 'preview-grade' }, h('span', { class: 'chip', style: `background:${c}` }), g))), svg);
  };
  rowsBody.addEventListener('input', renderPreview);
  const venueForm = h('form', { class: 'form card', 'aria-labelledby': 'vh', 'data-testid': 'venue-form' },
    h('h2', { id: 'vh' }, t('admin.venue.title')), field(t('admin.venue.name'), vname),
    h('div', { class: 'table-scroll' }, h('table', {}, h('thead', {}, h('tr', {},
      h('th', {}, t('admin.venue.section')), h('th', {}, t('admin.venue.row')), h('th', {}, t('admin.venue.seats')), h('th', {}, t('admin.venue.grade')), h('th', {}))), rowsBody)),
    h('button', { type: 'button', class: 'secondary', onclick: () => { addRow(); renderPreview(); } }, t('admin.venue.add_row')),
    h('fieldset', {}, h('legend', {}, t('admin.venue.csv')), field(t('admin.venue.csv_file'), csvFile), csvText,
      h('button', { type: 'button', class: 'secondary', onclick: applyCsv, 'data-testid': 'csv-apply' }, t('admin.venue.csv_apply'))),
    preview, h('button', { type: 'submit' }, t('admin.create')), venueOut);
  renderPreview();
  venueForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const sections: VenueSectionInput[] = [];
    for (const tr of Array.from(rowsBody.children)) {
      const v = (n: string) => (tr.querySelector(`[name=${n}]`) as HTMLInputElement).value.trim();
      let sec = sections.find((s) => s.name === v('section'));
      if (!sec) { sec = { name: v('section'), rows: [] }; sections.push(sec); }
      sec.rows.push({ label: v('row'), seats: Number(v('seats')), grade: v('grade') });
    }
    try {
      const { data } = await call<{ id: string; seat_count: number }>('POST', '/v1/admin/venues', { session: token, body: { name: vname.value, sections } });
      venueOut.replaceChildren(message('success', t('admin.venue.created', { id: data.id, n: data.seat_count }), 'venue-created'));
      remember((k) => k.venues.push({ id: data.id, name: vname.value }));
      addVenue(data.id, vname.value, true);
      grades = venueGrades(sections);
      renderGrades();
    } catch (err) { venueOut.replaceChildren(errorBox(err)); }
  });

  // ---- event ----
  const evTitle = h('input', { name: 'title', required: true, maxlength: 200 });
  const evVenue = h('select', { name: 'venue_id', required: true }, h('option', { value: '' }, t('admin.choose')));
  const addVenue = (id: string, name: string, select = false) => {
    let o = Array.from(evVenue.options).find((x) => x.value === id);
    if (!o) { o = h('option', { value: id }, `${name} (${id})`); evVenue.appendChild(o); }
    if (select) evVenue.value = id;
  };
  const evOut = h('div', { 'aria-live': 'polite' });
  const eventForm = h('form', { class: 'form card', 'aria-labelledby': 'eh', 'data-testid': 'event-form' },
    h('h2', { id: 'eh' }, t('admin.event.title')), field(t('admin.event.name'), evTitle), field(t('admin.event.venue'), evVenue),
    h('button', { type: 'submit' }, t('admin.create')), evOut);
  eventForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const { data } = await call<{ id: string }>('POST', '/v1/admin/events', { session: token, body: { title: evTitle.value, venue_id: evVenue.value } });
      evOut.replaceChildren(message('success', t('admin.event.created', { id: data.id }), 'event-created'));
      const venueId = evVenue.value;
      remember((k) => k.events.push({ id: data.id, title: evTitle.value, venueId }));
      addEvent(data.id, evTitle.value, venueId, true);
    } catch (err) { evOut.replaceChildren(errorBox(err)); }
  });

  // ---- performance ----
  const now = Date.now();
  const pEvent = h('select', { name: 'event_id', required: true }, h('option', { value: '' }, t('admin.choose')));
  const venueOfEvent = new Map<string, string>();
  const addEvent = (id: string, title: string, venueId: string, select = false) => {
    venueOfEvent.set(id, venueId);
    let o = Array.from(pEvent.options).find((x) => x.value === id);
    if (!o) { o = h('option', { value: id }, `${title} (${id})`); pEvent.appendChild(o); }
    if (select) { pEvent.value = id; void gradesOfEvent(); }
  };
  // The price fields follow the chosen event's venue (its grades).
  const gradesOfEvent = async () => {
    const venueId = venueOfEvent.get(pEvent.value);
    if (!venueId) return;
    try {
      const layout = (await call<Layout>('GET', `/v1/venues/${encodeURIComponent(venueId)}/layout`, { signal })).data;
      const g = [...new Set(layout.sections.flatMap((x) => x.rows.flatMap((r) => r.seats.map((st) => st.grade))))];
      if (g.length && g.join() !== grades.join()) { grades = g; renderGrades(); }
    } catch { /* the grades can still be typed */ }
  };
  pEvent.addEventListener('change', () => void gradesOfEvent());
  const pStarts = h('input', { name: 'starts_at', type: 'datetime-local', required: true, value: isoToKstInput(now + 30 * 86400e3) });
  const pOpens = h('input', { name: 'sale_opens_at', type: 'datetime-local', required: true, value: isoToKstInput(now + 86400e3) });
  // Optional: from this time until the sale opens, joins wait unordered and are drawn at the opening.
  const pQueueOpens = h('input', { name: 'queue_opens_at', type: 'datetime-local' });
  const currency = h('input', { name: 'currency', value: 'KRW', required: true, maxlength: 3, size: 4 });
  const gradeBox = h('div', { class: 'grid2' });
  const gradeText = h('input', { name: 'grades', placeholder: 'R, S' });
  const renderGrades = () => {
    if (!grades.length) grades = gradeText.value.split(',').map((x) => x.trim()).filter(Boolean);
    gradeBox.replaceChildren(...grades.map((g, i) => field(t('admin.perf.price', { grade: g }),
      h('input', { type: 'number', name: `price_${g}`, 'data-grade': g, min: 0, step: 1, required: true, value: 150000 - i * 40000 }))));
  };
  gradeText.addEventListener('change', () => { grades = []; renderGrades(); });
  const perOrder = num('max_seats_per_order', 4, 1, 20);
  const perAccount = num('max_seats_per_account', 4, 1, 20);
  const holdTtl = num('hold_ttl_seconds', 300, 1, 3600);
  const admit = num('admit_per_interval', 100, 1, 1000000);
  const interval = h('input', { type: 'number', name: 'interval_s', value: 1, min: 0.05, max: 60, step: 0.05, required: true, inputmode: 'decimal' });
  const maxActive = num('max_active', 1000, 1, 10000000);
  const accessTtl = num('access_ttl_seconds', 600, 10, 86400);
  const powBits = num('pow_difficulty', 0, 0, 32);
  // 0 = off; otherwise 10..3600 (1..9 is refused on submit: the input's range cannot say it).
  const presence = num('presence_timeout_seconds', 0, 0, 3600);
  // 0 = off; otherwise 30..3600 (1..29 is refused on submit, as above).
  const idle = num('idle_timeout_seconds', 0, 0, 3600);
  const pOut = h('div', { 'aria-live': 'polite', 'data-testid': 'perf-out' });
  const perfForm = h('form', { class: 'form card', 'aria-labelledby': 'ph', 'data-testid': 'perf-form' },
    h('h2', { id: 'ph' }, t('admin.perf.title')), field(t('admin.perf.event'), pEvent),
    h('div', { class: 'grid2' }, field(t('admin.perf.starts'), pStarts, t('admin.perf.tz_help')), field(t('admin.perf.opens'), pOpens, t('admin.perf.tz_help')),
      field(t('admin.perf.queue_opens'), pQueueOpens, `${t('admin.perf.tz_help')}. ${t('admin.perf.queue_opens_help')}`)),
    h('fieldset', {}, h('legend', {}, t('admin.perf.grades')), field(`${t('admin.venue.grade')} (R, S, …)`, gradeText), gradeBox, field(t('admin.perf.currency'), currency)),
    h('div', { class: 'grid2' }, field(t('admin.perf.per_order'), perOrder), field(t('admin.perf.per_account'), perAccount), field(t('admin.perf.hold_ttl'), holdTtl)),
    h('fieldset', {}, h('legend', {}, t('admin.queue.title')),
      h('div', { class: 'grid2' }, field(t('admin.queue.admit'), admit), field(t('admin.queue.interval'), interval),
        field(t('admin.queue.max_active'), maxActive), field(t('admin.queue.access_ttl'), accessTtl),
        field(t('admin.queue.pow'), powBits, t('admin.queue.pow_help')),
        field(t('admin.queue.presence'), presence, t('admin.queue.presence_help')),
        field(t('admin.queue.idle'), idle, t('admin.queue.idle_help')))),
    h('button', { type: 'submit' }, t('admin.create')), pOut);
  perfForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!grades.length) renderGrades();
    const price_grades = Array.from(gradeBox.querySelectorAll<HTMLInputElement>('input[data-grade]')).map((i) => ({
      grade: i.dataset.grade as string, price_cents: Number(i.value), currency: currency.value.trim().toUpperCase() }));
    const startsAt = kstInputToIso(pStarts.value);
    const opensAt = kstInputToIso(pOpens.value);
    if (!startsAt || !opensAt) { pOut.replaceChildren(message('error', t('admin.perf.bad_time'), 'error')); return; }
    const queueOpensAt = pQueueOpens.value.trim() ? kstInputToIso(pQueueOpens.value) : null;
    if (pQueueOpens.value.trim() && !queueOpensAt) { pOut.replaceChildren(message('error', t('admin.perf.bad_time'), 'error')); return; }
    if (queueOpensAt && Date.parse(queueOpensAt) >= Date.parse(opensAt)) {
      pOut.replaceChildren(message('error', t('admin.perf.bad_queue_time'), 'error'));
      return;
    }
    const presenceS = parsePresenceTimeout(presence.value);
    if (presenceS === null) {
      pOut.replaceChildren(message('error', t('admin.queue.presence_bad'), 'error'));
      presence.focus();
      return;
    }
    const idleS = parseIdleTimeout(idle.value);
    if (idleS === null) {
      pOut.replaceChildren(message('error', t('admin.queue.idle_bad'), 'error'));
      idle.focus();
      return;
    }
    try {
      const { data } = await call<{ id: string }>('POST', `/v1/admin/events/${encodeURIComponent(pEvent.value)}/performances`, {
        session: token, body: {
          starts_at: startsAt, sale_opens_at: opensAt, ...(queueOpensAt ? { queue_opens_at: queueOpensAt } : {}), price_grades,
          max_seats_per_order: Number(perOrder.value), max_seats_per_account: Number(perAccount.value), hold_ttl_seconds: Number(holdTtl.value),
          queue: { admit_per_interval: Number(admit.value), interval_ms: secondsToMs(interval.value), max_active: Number(maxActive.value), access_ttl_seconds: Number(accessTtl.value), pow_difficulty: Number(powBits.value),
            presence_timeout_seconds: presenceS, idle_timeout_seconds: idleS },
        } });
      pOut.replaceChildren(message('success', t('admin.perf.created', { id: data.id }), 'perf-created'),
        h('a', { href: `/admin/p/${encodeURIComponent(data.id)}`, class: 'button', 'data-testid': 'open-dashboard' }, t('admin.dashboard')));
    } catch (err) { pOut.replaceChildren(errorBox(err)); }
  });

  main.appendChild(venueForm);
  main.appendChild(eventForm);
  main.appendChild(perfForm);

  // What there is to choose from already.
  try {
    const { data } = await call<{ events: EventInfo[] }>('GET', '/v1/events', { signal, revalidate: true });
    for (const ev of data.events) { addVenue(ev.venue.id, ev.venue.name); addEvent(ev.id, ev.title, ev.venue.id); }
  } catch { /* the lists then hold what this tab made */ }
  const k = knownHere();
  for (const v of k.venues) addVenue(v.id, v.name);
  for (const ev of k.events) addEvent(ev.id, ev.title, ev.venueId);
}
