// History-API routing: the service answers every non-API path with index.html, so deep links and
// reloads work. A view gets an AbortSignal that fires when the user navigates away: timers and
// polls stop there.

export interface ViewCtx { main: HTMLElement; params: Record<string, string>; query: URLSearchParams; signal: AbortSignal }
export type View = (ctx: ViewCtx) => void | Promise<void>;

const routes: { re: RegExp; names: string[]; view: View }[] = [];
let current: AbortController | null = null;
let renderHook: () => void = () => {};

export function route(pattern: string, view: View): void {
  const names: string[] = [];
  const re = new RegExp('^' + pattern.replace(/:(\w+)/g, (_, n: string) => { names.push(n); return '([^/]+)'; }) + '/?$');
  routes.push({ re, names, view });
}

export function onRender(f: () => void): void { renderHook = f; }

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to); else history.pushState(null, '', to);
  void render();
}

export async function render(): Promise<void> {
  current?.abort();
  const ctrl = new AbortController();
  current = ctrl;
  const main = document.getElementById('main') as HTMLElement;
  while (main.firstChild) main.removeChild(main.firstChild);
  renderHook();
  const path = location.pathname;
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
    await r.view({ main, params, query: new URLSearchParams(location.search), signal: ctrl.signal });
    return;
  }
  navigate('/', true);
}

/** setTimeout that does nothing once the view is gone. */
export function later(signal: AbortSignal, ms: number, f: () => void): void {
  const id = setTimeout(() => { if (!signal.aborted) f(); }, ms);
  signal.addEventListener('abort', () => clearTimeout(id), { once: true });
}

/** Runs f now and then every ms (after each run finishes) until the view is gone. */
export function every(signal: AbortSignal, ms: number, f: () => Promise<void> | void): void {
  const tick = async () => {
    if (signal.aborted) return;
    try { await f(); } catch { /* the view shows its own errors */ }
    later(signal, ms, tick);
  };
  void tick();
}

export function installLinkHandler(): void {
  document.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const href = a.getAttribute('href');
    if (!href || !href.startsWith('/') || href.startsWith('//') || a.target || a.hasAttribute('download')) return;
    e.preventDefault();
    navigate(href);
  });
  window.addEventListener('popstate', () => void render());
}
