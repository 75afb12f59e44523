import { describe, expect, it } from 'vitest';
import { MIN_TARGET_PX, anchoredScroll, baseScale, clampZoom, minZoom } from '../src/logic/zoom';

describe('seat map zoom', () => {
  it('keeps seats at least 24 px at the default zoom on a phone', () => {
    // A 20-seat row (638 units wide, 22-unit seats) in a 340 px box.
    const s = baseScale(340, 638, 22);
    expect(22 * s).toBeGreaterThanOrEqual(MIN_TARGET_PX);
    expect(638 * s).toBeGreaterThan(340);   // wider than the phone: it pans
  });
  it('fits the map to a wide box when the seats stay big enough, within reason', () => {
    expect(baseScale(600, 500, 22)).toBe(1.2);
    expect(baseScale(1000, 500, 22)).toBe(1.5);
    expect(minZoom(1000, 500, 22)).toBe(1);
  });
  it('zooms out to the whole map, and not past it', () => {
    const z = minZoom(340, 638, 22);
    expect(638 * baseScale(340, 638, 22) * z).toBeCloseTo(340);
    expect(clampZoom(0.01, z)).toBe(z);
    expect(clampZoom(100, z)).toBe(4);
  });
  it('keeps the point under the finger in place', () => {
    // Point 100 px into the box, scrolled by 50: map point 150 at zoom 1 is at 300 at zoom 2.
    expect(anchoredScroll(50, 100, 1, 2)).toBe(200);
    expect(anchoredScroll(0, 0, 2, 1)).toBe(0);
  });
});
