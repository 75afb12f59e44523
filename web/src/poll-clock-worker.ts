// The waiting room's poll clock, off the page's thread: browsers slow the timers of a page in a
// background tab down, not a worker's, and a place kept by presence needs its polls on time.
// A message {n, ms} (re)arms the one timer, answered by n when it fires; {n, ms: null} cancels.

let timer: ReturnType<typeof setTimeout> | undefined;

self.onmessage = (e: MessageEvent<{ n: number; ms: number | null }>) => {
  clearTimeout(timer);
  timer = undefined;
  const { n, ms } = e.data;
  if (ms !== null) timer = setTimeout(() => self.postMessage(n), ms);
};
