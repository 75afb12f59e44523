// What the waiting room does with a status it polled, and how it explains a place that was given up.

/** `admitted`: on to the seats; `final`: the line is over for this ticket (sold out, closed, the
 *  time to buy ran out); `abandoned`: the place was given up; `wait`: poll again. */
export type StatusStep = 'admitted' | 'final' | 'abandoned' | 'wait';

export function statusStep(st: { state: string; access_token?: string; access_expires_at?: string }): StatusStep {
  switch (st.state) {
    case 'admitted': return st.access_token && st.access_expires_at ? 'admitted' : 'wait';
    case 'sold_out': case 'closed': case 'expired': return 'final';
    case 'abandoned': return 'abandoned';
    default: return 'wait';
  }
}

/** Whether the buyer may give the place up from this state: waiting in line or admitted (the
 *  pre-queue waits for its draw; a final state has no place to give up). */
export function leaveOffered(state: string | null): boolean {
  return state === 'waiting' || state === 'admitted';
}

/** Why a place was given up, as far as this browser can tell: it was left here (this tab or
 *  another of this browser), the page stopped checking in (presence on), or the server does not
 *  say (left on another device). */
export type AbandonedWhy = 'left' | 'timeout' | 'unknown';

export function abandonedWhy(leftHere: boolean, presenceS: number): AbandonedWhy {
  if (leftHere) return 'left';
  return presenceS > 0 ? 'timeout' : 'unknown';
}
