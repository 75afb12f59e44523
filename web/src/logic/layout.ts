// Venue layout -> SVG geometry. Sections are stacked under the stage (so the map stays narrow
// enough for a phone), each row centred, seats in a grid of SEAT + GAP. Pure: unit-tested.

export interface LayoutSeat { id: string; number: number | string; grade: string }
export interface LayoutRow { label: string; seats: LayoutSeat[] }
export interface LayoutSection { name: string; rows: LayoutRow[] }
export interface Layout { sections: LayoutSection[] }

export interface SeatBox {
  id: string; x: number; y: number; size: number;
  grade: string; section: string; row: string; number: string;
}
export interface Label { text: string; x: number; y: number }
export interface Geometry {
  width: number; height: number;
  stage: { x: number; y: number; w: number; h: number };
  sectionLabels: Label[];
  rowLabels: Label[];
  seats: SeatBox[];
}

export const SEAT = 22;
export const GAP = 6;
export const ROW_LABEL_W = 30;
export const PAD = 12;
export const STAGE_H = 28;
export const SECTION_TITLE_H = 26;
export const SECTION_GAP = 18;

export function layoutGeometry(layout: Layout): Geometry {
  const pitch = SEAT + GAP;
  const maxSeats = Math.max(1, ...layout.sections.flatMap((s) => s.rows.map((r) => r.seats.length)));
  const gridW = maxSeats * pitch - GAP;
  // Row labels on both sides keep the grid centred in the picture.
  const width = PAD * 2 + ROW_LABEL_W * 2 + gridW;
  const stage = { x: PAD + ROW_LABEL_W, y: PAD, w: gridW, h: STAGE_H };
  let y = PAD + STAGE_H + SECTION_GAP;
  const seats: SeatBox[] = [];
  const sectionLabels: Label[] = [];
  const rowLabels: Label[] = [];
  for (const sec of layout.sections) {
    sectionLabels.push({ text: sec.name, x: width / 2, y: y + SECTION_TITLE_H / 2 });
    y += SECTION_TITLE_H;
    for (const row of sec.rows) {
      const rowW = row.seats.length * pitch - GAP;
      const x0 = PAD + ROW_LABEL_W + (gridW - rowW) / 2;
      rowLabels.push({ text: row.label, x: PAD + ROW_LABEL_W / 2, y: y + SEAT / 2 });
      row.seats.forEach((seat, i) => {
        seats.push({
          id: seat.id, x: x0 + i * pitch, y, size: SEAT, grade: seat.grade,
          section: sec.name, row: row.label, number: String(seat.number),
        });
      });
      y += pitch;
    }
    y += SECTION_GAP;
  }
  return { width, height: y - SECTION_GAP + PAD, stage, sectionLabels, rowLabels, seats };
}

// Colour-blind-friendly palette (Okabe-Ito based, darkened for >= 3:1 contrast on white).
export const GRADE_PALETTE = ['#0b5fa5', '#b35900', '#007a5a', '#a3367a', '#5b4bb7', '#8a6d00', '#1f7a8c'];

/** Colour per grade, by descending price so the dearest grade always gets the first colour. */
export function gradeColors(prices: ReadonlyArray<{ grade: string; price_cents: number }>,
                            layoutGrades: Iterable<string> = []): Map<string, string> {
  const grades = [...prices].sort((a, b) => b.price_cents - a.price_cents || a.grade.localeCompare(b.grade))
    .map((p) => p.grade);
  for (const g of layoutGrades) if (!grades.includes(g)) grades.push(g);
  const m = new Map<string, string>();
  grades.forEach((g, i) => m.set(g, GRADE_PALETTE[i % GRADE_PALETTE.length]));
  return m;
}

/** Seat id -> its description, for labels, tickets and messages. */
export function seatIndex(layout: Layout): Map<string, { section: string; row: string; number: string; grade: string }> {
  const m = new Map<string, { section: string; row: string; number: string; grade: string }>();
  for (const s of layout.sections) for (const r of s.rows) for (const seat of r.seats) {
    m.set(seat.id, { section: s.name, row: r.label, number: String(seat.number), grade: seat.grade });
  }
  return m;
}
