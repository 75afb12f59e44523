import { call } from '../api';
import { field, h, message } from '../dom';
import { t } from '../i18n';
import { parseVenueCsv, venueGrades, type VenueSectionInput } from '../logic/csv';
import type { ViewCtx } from '../router';
import { errorBox } from './common';
import { requireAdmin } from './admin-home';

function num(name: string, value: number, min: number, max: number): HTMLInputElement {
  return h('input', { type: 'number', name, value, min, max, step: 1, required: true, inputmode: 'numeric' });
}

/** "2026-12-01T19:00" (local, from datetime-local) -> RFC 3339 UTC. */
function toRfc3339(local: string): string { return new Date(local).toISOString(); }
function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function adminCreateView({ main }: ViewCtx): void {
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
      h('td', {}, h('button', { type: 'button', class: 'secondary small', 'aria-label': t('admin.venue.remove_row'), onclick: () => tr.remove() }, '×')));
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
    for (const s of r.sections) for (const row of s.rows) addRow(s.name, row.label, row.seats, row.grade);
    venueOut.replaceChildren();
    return true;
  };
  const venueForm = h('form', { class: 'form card', 'aria-labelledby': 'vh', 'data-testid': 'venue-form' },
    h('h2', { id: 'vh' }, t('admin.venue.title')), field(t('admin.venue.name'), vname),
    h('div', { class: 'table-scroll' }, h('table', {}, h('thead', {}, h('tr', {},
      h('th', {}, t('admin.venue.section')), h('th', {}, t('admin.venue.row')), h('th', {}, t('admin.venue.seats')), h('th', {}, t('admin.venue.grade')), h('th', {}))), rowsBody)),
    h('button', { type: 'button', class: 'secondary', onclick: () => addRow() }, t('admin.venue.add_row')),
    h('fieldset', {}, h('legend', {}, t('admin.venue.csv')), field(t('admin.venue.csv_file'), csvFile), csvText,
      h('button', { type: 'button', class: 'secondary', onclick: applyCsv, 'data-testid': 'csv-apply' }, t('admin.venue.csv_apply'))),
    h('button', { type: 'submit' }, t('admin.create')), venueOut);
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
      evVenue.value = data.id;
      grades = venueGrades(sections);
      renderGrades();
    } catch (err) { venueOut.replaceChildren(errorBox(err)); }
  });

  // ---- event ----
  const evTitle = h('input', { name: 'title', required: true, maxlength: 200 });
  const evVenue = h('input', { name: 'venue_id', required: true });
  const evOut = h('div', { 'aria-live': 'polite' });
  const eventForm = h('form', { class: 'form card', 'aria-labelledby': 'eh', 'data-testid': 'event-form' },
    h('h2', { id: 'eh' }, t('admin.event.title')), field(t('admin.event.name'), evTitle), field(t('admin.event.venue'), evVenue),
    h('button', { type: 'submit' }, t('admin.create')), evOut);
  eventForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const { data } = await call<{ id: string }>('POST', '/v1/admin/events', { session: token, body: { title: evTitle.value, venue_id: evVenue.value.trim() } });
      evOut.replaceChildren(message('success', t('admin.event.created', { id: data.id }), 'event-created'));
      pEvent.value = data.id;
    } catch (err) { evOut.replaceChildren(errorBox(err)); }
  });

  // ---- performance ----
  const now = new Date();
  const pEvent = h('input', { name: 'event_id', required: true });
  const pStarts = h('input', { name: 'starts_at', type: 'datetime-local', required: true, value: localInput(new Date(now.getTime() + 30 * 86400e3)) });
  const pOpens = h('input', { name: 'sale_opens_at', type: 'datetime-local', required: true, value: localInput(new Date(now.getTime() + 86400e3)) });
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
  const interval = num('interval_ms', 1000, 50, 60000);
  const maxActive = num('max_active', 1000, 1, 10000000);
  const accessTtl = num('access_ttl_seconds', 600, 10, 86400);
  const pOut = h('div', { 'aria-live': 'polite', 'data-testid': 'perf-out' });
  const perfForm = h('form', { class: 'form card', 'aria-labelledby': 'ph', 'data-testid': 'perf-form' },
    h('h2', { id: 'ph' }, t('admin.perf.title')), field(t('admin.perf.event'), pEvent),
    h('div', { class: 'grid2' }, field(t('admin.perf.starts'), pStarts), field(t('admin.perf.opens'), pOpens)),
    h('fieldset', {}, h('legend', {}, t('admin.perf.grades')), field(`${t('admin.venue.grade')} (R, S, …)`, gradeText), gradeBox, field(t('admin.perf.currency'), currency)),
    h('div', { class: 'grid2' }, field(t('admin.perf.per_order'), perOrder), field(t('admin.perf.per_account'), perAccount), field(t('admin.perf.hold_ttl'), holdTtl)),
    h('fieldset', {}, h('legend', {}, t('admin.queue.title')),
      h('div', { class: 'grid2' }, field(t('admin.queue.admit'), admit), field(t('admin.queue.interval'), interval),
        field(t('admin.queue.max_active'), maxActive), field(t('admin.queue.access_ttl'), accessTtl))),
    h('button', { type: 'submit' }, t('admin.create')), pOut);
  perfForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!grades.length) renderGrades();
    const price_grades = Array.from(gradeBox.querySelectorAll<HTMLInputElement>('input[data-grade]')).map((i) => ({
      grade: i.dataset.grade as string, price_cents: Number(i.value), currency: currency.value.trim().toUpperCase() }));
    try {
      const { data } = await call<{ id: string }>('POST', `/v1/admin/events/${encodeURIComponent(pEvent.value.trim())}/performances`, {
        session: token, body: {
          starts_at: toRfc3339(pStarts.value), sale_opens_at: toRfc3339(pOpens.value), price_grades,
          max_seats_per_order: Number(perOrder.value), max_seats_per_account: Number(perAccount.value), hold_ttl_seconds: Number(holdTtl.value),
          queue: { admit_per_interval: Number(admit.value), interval_ms: Number(interval.value), max_active: Number(maxActive.value), access_ttl_seconds: Number(accessTtl.value) },
        } });
      pOut.replaceChildren(message('success', t('admin.perf.created', { id: data.id }), 'perf-created'),
        h('a', { href: `/admin/p/${encodeURIComponent(data.id)}`, class: 'button', 'data-testid': 'open-dashboard' }, t('admin.dashboard')));
    } catch (err) { pOut.replaceChildren(errorBox(err)); }
  });

  main.appendChild(venueForm);
  main.appendChild(eventForm);
  main.appendChild(perfForm);
}
