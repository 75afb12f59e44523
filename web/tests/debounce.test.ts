import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debounce } from '../src/logic/debounce';

describe('debounce', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('runs once with the last arguments after the quiet period', () => {
    const seen: string[] = [];
    const d = debounce((q: string) => seen.push(q), 300);
    d('a'); vi.advanceTimersByTime(100);
    d('ab'); vi.advanceTimersByTime(299);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(['ab']);
  });

  it('cancel drops the pending call', () => {
    const seen: string[] = [];
    const d = debounce((q: string) => seen.push(q), 300);
    d('x'); d.cancel(); vi.advanceTimersByTime(1000);
    expect(seen).toEqual([]);
  });
});
