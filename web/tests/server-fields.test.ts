import { describe, expect, it } from 'vitest';
import { ServerFields } from '../src/logic/server-fields';

describe('ServerFields', () => {
  it('a refresh updates a field the user has not touched', () => {
    const f = new ServerFields();
    const admit = { value: '' };
    f.write(admit, '3');
    f.write(admit, '5');
    expect(admit.value).toBe('5');
  });

  it('a refresh keeps what the user typed', () => {
    const f = new ServerFields();
    const admit = { value: '' };
    const maxActive = { value: '' };
    f.write(admit, '3');
    f.write(maxActive, '6');
    admit.value = '50';
    f.write(admit, '3');
    f.write(maxActive, '7');
    expect(admit.value).toBe('50');
    expect(f.edited(admit)).toBe(true);
    expect(maxActive.value).toBe('7');
  });

  it('a field typed back to the written value is no longer edited', () => {
    const f = new ServerFields();
    const admit = { value: '' };
    f.write(admit, '3');
    admit.value = '3';
    f.write(admit, '4');
    expect(admit.value).toBe('4');
  });

  it('the answer to a submission overwrites the edits', () => {
    const f = new ServerFields();
    const admit = { value: '' };
    f.write(admit, '3');
    admit.value = '50';
    f.write(admit, '50', true);
    expect(f.edited(admit)).toBe(false);
    f.write(admit, '60');
    expect(admit.value).toBe('60');
  });
});
