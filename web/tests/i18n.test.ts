import { describe, expect, it } from 'vitest';
import { clockLabel, detectLang, dictionaries, formatDate, formatMoney, formatTimeout, formatWait, translate } from '../src/i18n';

describe('i18n', () => {
  it('picks the first supported browser language, a saved choice first', () => {
    expect(detectLang(null, ['ko-KR', 'en-US'])).toBe('ko');
    expect(detectLang(null, ['fr-FR', 'en-GB', 'ko'])).toBe('en');
    expect(detectLang(null, ['de', 'KO'])).toBe('ko');
    expect(detectLang(null, [])).toBe('en');
    expect(detectLang('en', ['ko-KR'])).toBe('en');
    expect(detectLang('xx', ['ko-KR'])).toBe('ko');
  });

  it('has every English text in Korean, translated and with the same placeholders', () => {
    const en = dictionaries.en as Record<string, string>;
    const ko = dictionaries.ko as Record<string, string>;
    expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
    const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const k of Object.keys(en)) {
      expect(ph(ko[k]), k).toEqual(ph(en[k]));
      expect(ko[k].trim(), k).not.toBe('');
    }
    // Korean texts really are Korean (Hangul), not copies of the English ones.
    const hangul = Object.values(ko).filter((s) => /[\uac00-\ud7a3]/.test(s)).length;
    expect(hangul / Object.keys(ko).length).toBeGreaterThan(0.9);
  });

  it('fills placeholders and falls back to English, then to the key', () => {
    expect(translate('ko', 'seats.limit', { n: 4 })).toBe('최대 4석까지 선택할 수 있습니다.');
    expect(translate('en', 'seats.limit', { n: 4 })).toBe('You can choose up to 4 seats.');
    expect(translate('en', 'queue.next')).toBe('Next update in {s} s');
    expect(translate('ko', 'no.such.key')).toBe('no.such.key');
  });

  it('formats money in minor units of the currency', () => {
    expect(formatMoney(150000, 'KRW', 'ko')).toBe('₩150,000');
    expect(formatMoney(1999, 'USD', 'en')).toBe('$19.99');
  });

  it('formats waiting times', () => {
    expect(formatWait(0, 'en')).toBe('less than a minute');
    expect(formatWait(42, 'en')).toBe('42 s');
    expect(formatWait(125, 'ko')).toBe('2분 5초');
    expect(formatWait(86400, 'en')).toBe('about 24 h 0 min');
    expect(formatWait(3900, 'ko')).toBe('약 1시간 5분');
  });

  it('writes a presence timeout in seconds, whole minutes, or both', () => {
    expect(formatTimeout(45, 'en')).toBe('45 s');
    expect(formatTimeout(120, 'en')).toBe('2 min');
    expect(formatTimeout(90, 'en')).toBe('1 min 30 s');
    expect(formatTimeout(3600, 'en')).toBe('60 min');
    expect(formatTimeout(10, 'ko')).toBe('10초');
    expect(formatTimeout(600, 'ko')).toBe('10분');
    expect(formatTimeout(150, 'ko')).toBe('2분 30초');
    expect(translate('en', 'queue.abandoned.timeout', { time: formatTimeout(30, 'en') })).toContain('more than 30 s');
    expect(translate('ko', 'queue.presence', { time: formatTimeout(120, 'ko') })).toContain('2분 동안');
  });
});

describe('dates in KST', () => {
  it('writes a performance time in the venue time zone, Korean and English', () => {
    // 10:30 UTC is 19:30 in Seoul, on a Saturday.
    expect(formatDate('2027-05-01T10:30:00Z', 'ko')).toBe('2027.05.01 (토) 19:30 KST');
    expect(formatDate('2027-05-01T10:30:00Z', 'en')).toBe('Sat 1 May 2027, 19:30 KST');
    expect(formatDate('2027-05-01T15:30:00Z', 'en')).toBe('Sun 2 May 2027, 00:30 KST');
  });
});

describe('chart times', () => {
  it('labels a time axis in KST, 24-hour, never am/pm', () => {
    const t = Date.parse('2027-05-01T10:30:05Z') / 1000;
    expect(clockLabel(t, true)).toBe('19:30:05');
    expect(clockLabel(t, false)).toBe('19:30');
  });
});
