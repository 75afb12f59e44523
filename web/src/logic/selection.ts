// Seat selection before a hold: only available seats, at most `limit` of them, where the limit is
// the smaller of max_seats_per_order and what the account may still buy.

export type SeatState = 'available' | 'held' | 'sold';

export interface ToggleResult {
  selected: string[];
  /** Why the toggle was refused, for a message; undefined when it happened. */
  refused?: 'limit' | 'unavailable';
}

export function selectionLimit(maxPerOrder: number, maxPerAccount: number, alreadyOwned = 0): number {
  return Math.max(0, Math.min(maxPerOrder, maxPerAccount - alreadyOwned));
}

export function toggleSeat(selected: readonly string[], seatId: string, state: SeatState | undefined,
                           limit: number): ToggleResult {
  if (selected.includes(seatId)) return { selected: selected.filter((s) => s !== seatId) };
  if (state !== 'available') return { selected: [...selected], refused: 'unavailable' };
  if (selected.length >= limit) return { selected: [...selected], refused: 'limit' };
  return { selected: [...selected, seatId] };
}

/** After a refresh of the seat states: drop selected seats someone else took meanwhile. */
export function pruneSelection(selected: readonly string[],
                               states: ReadonlyMap<string, SeatState>): { kept: string[]; lost: string[] } {
  const kept: string[] = [];
  const lost: string[] = [];
  for (const id of selected) (states.get(id) === 'available' ? kept : lost).push(id);
  return { kept, lost };
}

/** Total price of a selection from the seat grades and the performance's price grades. */
export function selectionTotal(selected: readonly string[], gradeOf: ReadonlyMap<string, string>,
                               prices: ReadonlyArray<{ grade: string; price_cents: number }>): number {
  let total = 0;
  for (const id of selected) {
    const g = gradeOf.get(id);
    const p = prices.find((x) => x.grade === g);
    if (p) total += p.price_cents;
  }
  return total;
}
