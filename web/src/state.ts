// Browser-side state: the buyer's session (localStorage, shared by tabs) and the operator's admin
// token (sessionStorage only: gone when the tab closes, never written to disk by us).

export interface Session { token: string; email: string; expiresAt: string }

export function session(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem('tk.session') ?? 'null') as Session | null;
    if (!s || !s.token || !(Date.parse(s.expiresAt) > Date.now())) return null;
    return s;
  } catch { return null; }
}
export function saveSession(s: Session): void { localStorage.setItem('tk.session', JSON.stringify(s)); }
export function clearSession(): void { localStorage.removeItem('tk.session'); }

export function adminToken(): string | null { return sessionStorage.getItem('tk.admin'); }
export function saveAdminToken(t: string): void { sessionStorage.setItem('tk.admin', t); }
export function clearAdminToken(): void { sessionStorage.removeItem('tk.admin'); }
