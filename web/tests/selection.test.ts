import { describe, expect, it } from 'vitest';
import { pruneSelection, selectionLimit, selectionTotal, toggleSeat, type SeatState } from '../src/logic/selection';

describe('seat selection', () => {
  it('limits to the smaller of per-order and what the account may still buy', () => {
    expect(selectionLimit(4, 4)).toBe(4);
    expect(selectionLimit(4, 2)).toBe(2);
    expect(selectionLimit(4, 6, 3)).toBe(3);
    expect(selectionLimit(4, 2, 5)).toBe(0);
  });
  it('selects available seats up to the limit, and deselects', () => {
    let sel: string[] = [];
    for (const id of ['a', 'b']) sel = toggleSeat(sel, id, 'available', 2).selected;
    expect(sel).toEqual(['a', 'b']);
    const over = toggleSeat(sel, 'c', 'available', 2);
    expect(over.refused).toBe('limit');
    expect(over.selected).toEqual(['a', 'b']);
    const off = toggleSeat(sel, 'a', 'available', 2);
    expect(off.refused).toBeUndefined();
    expect(off.selected).toEqual(['b']);
    expect(toggleSeat(off.selected, 'c', 'available', 2).selected).toEqual(['b', 'c']);
  });
  it('refuses held, sold and unknown seats, but lets a selected seat go whatever its state', () => {
    expect(toggleSeat([], 'x', 'held', 4).refused).toBe('unavailable');
    expect(toggleSeat([], 'x', 'sold', 4).refused).toBe('unavailable');
    expect(toggleSeat([], 'x', undefined, 4).refused).toBe('unavailable');
    expect(toggleSeat(['x'], 'x', 'held', 4).selected).toEqual([]);
  });
  it('drops selected seats that someone else took meanwhile', () => {
    const states = new Map<string, SeatState>([['a', 'available'], ['b', 'held'], ['c', 'sold']]);
    expect(pruneSelection(['a', 'b', 'c', 'd'], states)).toEqual({ kept: ['a'], lost: ['b', 'c', 'd'] });
  });
  it('totals the prices of the selected grades', () => {
    const grades = new Map([['a', 'R'], ['b', 'S'], ['c', 'R']]);
    const prices = [{ grade: 'R', price_cents: 150000 }, { grade: 'S', price_cents: 90000 }];
    expect(selectionTotal(['a', 'b', 'c'], grades, prices)).toBe(390000);
    expect(selectionTotal([], grades, prices)).toBe(0);
  });
});
