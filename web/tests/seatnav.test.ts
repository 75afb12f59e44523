import { describe, expect, it } from 'vitest';
import { layoutGeometry, type Layout } from '../src/logic/layout';
import { SeatNavigator } from '../src/logic/seatnav';

const seats = (p: string, n: number) => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, number: i + 1, grade: 'R' }));
const layout: Layout = { sections: [
  { name: 'A', rows: [{ label: '1', seats: seats('A1-', 4) }, { label: '2', seats: seats('A2-', 6) }] },
  { name: 'B', rows: [{ label: '1', seats: seats('B1-', 4) }] },
] };
const nav = new SeatNavigator(layoutGeometry(layout).seats);

describe('seat map keyboard movement', () => {
  it('moves along a row and stops at its ends', () => {
    expect(nav.move('A1-1', 'ArrowRight')).toBe('A1-2');
    expect(nav.move('A1-2', 'ArrowLeft')).toBe('A1-1');
    expect(nav.move('A1-1', 'ArrowLeft')).toBeNull();
    expect(nav.move('A1-4', 'ArrowRight')).toBeNull();
    expect(nav.move('A2-3', 'Home')).toBe('A2-1');
    expect(nav.move('A2-3', 'End')).toBe('A2-6');
  });
  it('moves up and down to the nearest seat of the next row, across sections', () => {
    // Row A2 has 6 seats centred under A1's 4: A1-1 sits above A2-2.
    expect(nav.move('A1-1', 'ArrowDown')).toBe('A2-2');
    expect(nav.move('A2-2', 'ArrowUp')).toBe('A1-1');
    expect(nav.move('A2-6', 'ArrowDown')).toBe('B1-4');
    expect(nav.move('B1-1', 'ArrowDown')).toBeNull();
    expect(nav.move('A1-1', 'ArrowUp')).toBeNull();
  });
  it('jumps between sections with Page Up / Page Down', () => {
    expect(nav.move('A1-2', 'PageDown')).toBe('B1-2');
    expect(nav.move('B1-2', 'PageUp')).toBe('A1-2');
    expect(nav.move('B1-2', 'PageDown')).toBeNull();
    expect(nav.move('A1-2', 'Tab')).toBeNull();
  });
});
