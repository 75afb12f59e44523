// The clocks of the waiting room's poll schedule (logic/presence.ts): the page's own setTimeout,
// and one in a dedicated worker that a background tab does not slow down.
import type { TimerSource } from './logic/presence';

export function pageTimer(): TimerSource {
  let id: ReturnType<typeof setTimeout> | undefined;
  return {
    start(ms, f) { clearTimeout(id); id = setTimeout(f, ms); },
    cancel() { clearTimeout(id); id = undefined; },
  };
}

/** A timer in a worker, ended with the view. Where no worker can be made it is the page's timer;
 *  a worker that fails later just never fires, and the page's timer armed beside it polls. */
export function workerTimer(signal: AbortSignal): TimerSource {
  let w: Worker;
  try {
    w = new Worker(new URL('./poll-clock-worker.ts', import.meta.url), { type: 'module' });
  } catch {
    return pageTimer();
  }
  signal.addEventListener('abort', () => w.terminate(), { once: true });
  let n = 0;   // the armed timer; a late answer of a cancelled one is ignored
  let f: (() => void) | null = null;
  w.onmessage = (e: MessageEvent<number>) => {
    if (e.data !== n || !f) return;
    const g = f;
    f = null;
    g();
  };
  return {
    start(ms, g) { f = g; w.postMessage({ n: ++n, ms }); },
    cancel() { if (f) { f = null; w.postMessage({ n: ++n, ms: null }); } },
  };
}
