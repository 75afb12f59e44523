// Venue import from CSV: one line per row of seats, "section,row,seats,grade" (a header line with
// these names is optional; quoted fields allowed). Returns the body of POST /v1/admin/venues.

export interface VenueRowInput { label: string; seats: number; grade: string }
export interface VenueSectionInput { name: string; rows: VenueRowInput[] }
export interface CsvResult { sections: VenueSectionInput[]; errors: { line: number; message: string }[] }

export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; ++i) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; ++i; }
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',' || c === ';' || c === '\t') { out.push(cur.trim()); cur = ''; }
    else cur += c;
  }
  out.push(cur.trim());
  return out;
}

export function parseVenueCsv(text: string): CsvResult {
  const sections: VenueSectionInput[] = [];
  const errors: CsvResult['errors'] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = splitCsvLine(line);
    if (i === 0 && f[0].toLowerCase() === 'section') return;  // header
    if (f.length !== 4) { errors.push({ line: i + 1, message: 'expected 4 fields: section,row,seats,grade' }); return; }
    const [name, label, n, grade] = f;
    const seats = Number(n);
    if (!name || !label || !grade) { errors.push({ line: i + 1, message: 'empty field' }); return; }
    if (!Number.isInteger(seats) || seats < 1 || seats > 1000) {
      errors.push({ line: i + 1, message: 'seats must be a whole number from 1 to 1000' }); return;
    }
    let sec = sections.find((s) => s.name === name);
    if (!sec) { sec = { name, rows: [] }; sections.push(sec); }
    if (sec.rows.some((r) => r.label === label)) { errors.push({ line: i + 1, message: `row ${label} twice in ${name}` }); return; }
    sec.rows.push({ label, seats, grade });
  });
  if (!sections.length && !errors.length) errors.push({ line: 0, message: 'no rows' });
  return { sections, errors };
}

export function venueGrades(sections: VenueSectionInput[]): string[] {
  const g: string[] = [];
  for (const s of sections) for (const r of s.rows) if (!g.includes(r.grade)) g.push(r.grade);
  return g;
}
