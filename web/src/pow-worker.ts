// Solves a proof-of-work challenge off the page's thread, reporting progress every slice.
import { search } from './logic/pow';

interface Job { challenge: string; difficulty: number }

const SLICE = 20_000;

self.onmessage = (e: MessageEvent<Job>) => {
  const { challenge, difficulty } = e.data;
  let next = 1;
  for (;;) {
    const r = search(challenge, difficulty, next, SLICE);
    if (r.nonce !== null) { self.postMessage({ nonce: r.nonce, tried: r.next - 1 }); return; }
    next = r.next;
    self.postMessage({ tried: next - 1 });
  }
};
