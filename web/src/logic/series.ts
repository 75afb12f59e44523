// Time series for the dashboard: one sample per stats poll, a sliding window, and rates derived
// from counters (hold expiries per second from holds_expired_total).
import type { Stats } from '../api';

export class Series {
  t: number[] = [];
  waiting: number[] = [];
  active: number[] = [];
  holds: number[] = [];
  admissionRate: number[] = [];
  expiryRate: number[] = [];
  available: number[] = [];
  held: number[] = [];
  sold: number[] = [];
  ordersPaid: number[] = [];
  private last: { t: number; expired: number } | null = null;

  constructor(private windowS: number) {}

  /** Adds a sample taken at `t` (seconds); returns the derived rates of this sample. */
  push(t: number, s: Stats): { expiryRate: number } {
    let expiryRate = 0;
    if (this.last && t > this.last.t) {
      // A counter that went down (service restarted) counts as a fresh start, not a negative rate.
      expiryRate = Math.max(0, s.holds_expired_total - this.last.expired) / (t - this.last.t);
    }
    this.last = { t, expired: s.holds_expired_total };
    this.t.push(t);
    this.waiting.push(s.waiting);
    this.active.push(s.active);
    this.holds.push(s.holds_active);
    this.admissionRate.push(s.admission_rate_per_s);
    this.expiryRate.push(expiryRate);
    this.available.push(s.seats.available);
    this.held.push(s.seats.held);
    this.sold.push(s.seats.sold);
    this.ordersPaid.push(s.orders_paid);
    while (this.t.length && this.t[0] < t - this.windowS) this.shift();
    return { expiryRate };
  }

  private shift(): void {
    for (const a of [this.t, this.waiting, this.active, this.holds, this.admissionRate, this.expiryRate,
                     this.available, this.held, this.sold, this.ordersPaid]) a.shift();
  }
}
