// Keyboard movement on the seat map (one Tab stop for the whole map, a roving tab index): arrows
// move within a row and to the nearest seat of the row above or below (across sections), Home and
// End to the row's ends, Page Up / Page Down to the same place in the previous / next section.

import type { SeatBox } from './layout';

export type NavKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End' | 'PageUp' | 'PageDown';
export const NAV_KEYS: readonly string[] = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'];

export class SeatNavigator {
  private readonly rows: SeatBox[][] = [];
  private readonly where = new Map<string, { r: number; i: number }>();

  /** `seats` in map order: section by section, row by row, left to right. */
  constructor(seats: readonly SeatBox[]) {
    let key = '';
    for (const s of seats) {
      const k = `${s.section}\u0000${s.row}`;
      if (k !== key) { this.rows.push([]); key = k; }
      const row = this.rows[this.rows.length - 1];
      this.where.set(s.id, { r: this.rows.length - 1, i: row.length });
      row.push(s);
    }
  }

  /** The seat a key moves to from `id`, or null when it does not move (an edge, unknown key). */
  move(id: string, key: string): string | null {
    const at = this.where.get(id);
    if (!at) return null;
    const row = this.rows[at.r];
    const here = row[at.i];
    const nearest = (r: number) => {
      const target = this.rows[r];
      let best = target[0];
      for (const s of target) if (Math.abs(s.x - here.x) < Math.abs(best.x - here.x)) best = s;
      return best.id;
    };
    const sectionStep = (dir: 1 | -1) => {
      for (let r = at.r + dir; r >= 0 && r < this.rows.length; r += dir) {
        if (this.rows[r][0].section !== here.section) {
          // The first row of that section (going down) or its first row too (going up).
          let first = r;
          while (first > 0 && this.rows[first - 1][0].section === this.rows[r][0].section) first--;
          return nearest(first);
        }
      }
      return null;
    };
    let next: string | null = null;
    switch (key) {
      case 'ArrowLeft': next = at.i > 0 ? row[at.i - 1].id : null; break;
      case 'ArrowRight': next = at.i < row.length - 1 ? row[at.i + 1].id : null; break;
      case 'Home': next = row[0].id; break;
      case 'End': next = row[row.length - 1].id; break;
      case 'ArrowUp': next = at.r > 0 ? nearest(at.r - 1) : null; break;
      case 'ArrowDown': next = at.r < this.rows.length - 1 ? nearest(at.r + 1) : null; break;
      case 'PageUp': next = sectionStep(-1); break;
      case 'PageDown': next = sectionStep(1); break;
      default: return null;
    }
    return next === id ? null : next;
  }
}
