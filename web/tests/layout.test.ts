import { describe, expect, it } from 'vitest';
import { GAP, GRADE_PALETTE, PAD, ROW_LABEL_W, SEAT, gradeColors, layoutGeometry, seatIndex, type Layout } from '../src/logic/layout';

const seats = (row: string, n: number, grade: string) =>
  Array.from({ length: n }, (_, i) => ({ id: `${row}${i + 1}`, number: i + 1, grade }));
const layout: Layout = {
  sections: [
    { name: 'A', rows: [{ label: '1', seats: seats('A1-', 4, 'R') }, { label: '2', seats: seats('A2-', 2, 'R') }] },
    { name: 'B', rows: [{ label: '1', seats: seats('B1-', 3, 'S') }] },
  ],
};

describe('layout -> SVG geometry', () => {
  const g = layoutGeometry(layout);
  it('places every seat once, without overlaps, inside the picture', () => {
    expect(g.seats).toHaveLength(9);
    expect(new Set(g.seats.map((s) => s.id)).size).toBe(9);
    for (const a of g.seats) {
      expect(a.x).toBeGreaterThanOrEqual(PAD + ROW_LABEL_W);
      expect(a.x + a.size).toBeLessThanOrEqual(g.width - PAD - ROW_LABEL_W + 1e-9);
      expect(a.y + a.size).toBeLessThanOrEqual(g.height);
      for (const b of g.seats) {
        if (a === b) continue;
        const apart = a.x + SEAT <= b.x || b.x + SEAT <= a.x || a.y + SEAT <= b.y || b.y + SEAT <= a.y;
        expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
      }
    }
  });
  it('lays a row left to right at the seat pitch, and centres shorter rows', () => {
    const row1 = g.seats.filter((s) => s.section === 'A' && s.row === '1');
    expect(row1.map((s) => s.number)).toEqual(['1', '2', '3', '4']);
    for (let i = 1; i < row1.length; ++i) expect(row1[i].x - row1[i - 1].x).toBe(SEAT + GAP);
    expect(g.width).toBe(2 * PAD + 2 * ROW_LABEL_W + 4 * (SEAT + GAP) - GAP);
    const row2 = g.seats.filter((s) => s.section === 'A' && s.row === '2');
    const centre = (r: typeof row1) => (r[0].x + r[r.length - 1].x + SEAT) / 2;
    expect(centre(row2)).toBeCloseTo(centre(row1));
    expect(row2[0].y - row1[0].y).toBe(SEAT + GAP);
  });
  it('puts later sections below earlier ones, under the stage', () => {
    const a = g.seats.find((s) => s.id === 'A2-1')!;
    const b = g.seats.find((s) => s.id === 'B1-1')!;
    expect(b.y).toBeGreaterThan(a.y + SEAT);
    expect(g.stage.y + g.stage.h).toBeLessThan(Math.min(...g.seats.map((s) => s.y)));
    expect(g.sectionLabels.map((l) => l.text)).toEqual(['A', 'B']);
    expect(g.rowLabels).toHaveLength(3);
  });
  it('handles an empty layout', () => {
    const e = layoutGeometry({ sections: [] });
    expect(e.seats).toEqual([]);
    expect(e.width).toBeGreaterThan(0);
  });
  it('colours grades by descending price, stable and distinct', () => {
    const c = gradeColors([{ grade: 'S', price_cents: 90000 }, { grade: 'VIP', price_cents: 200000 }, { grade: 'R', price_cents: 150000 }], ['A']);
    expect([...c.keys()]).toEqual(['VIP', 'R', 'S', 'A']);
    expect(c.get('VIP')).toBe(GRADE_PALETTE[0]);
    expect(new Set(c.values()).size).toBe(4);
  });
  it('indexes seats by id', () => {
    expect(seatIndex(layout).get('B1-3')).toEqual({ section: 'B', row: '1', number: '3', grade: 'S' });
  });
});
