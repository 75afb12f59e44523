import { describe, expect, it } from 'vitest';
import { cacheModeFor } from '../src/logic/cache';

describe('HTTP cache mode per request', () => {
  it('lets the browser keep public catalogue reads', () => {
    expect(cacheModeFor('GET', {})).toBe('default');
  });
  it('revalidates when a screen must show a change made a moment ago', () => {
    expect(cacheModeFor('GET', { revalidate: true })).toBe('no-cache');
  });
  it('never stores anything personal or a write', () => {
    expect(cacheModeFor('GET', { session: 's' })).toBe('no-store');
    expect(cacheModeFor('GET', { access: 'a' })).toBe('no-store');
    expect(cacheModeFor('GET', { ticket: 't' })).toBe('no-store');
    expect(cacheModeFor('POST', {})).toBe('no-store');
    expect(cacheModeFor('POST', { body: {} })).toBe('no-store');
    expect(cacheModeFor('DELETE', { session: 's' })).toBe('no-store');
  });
});
