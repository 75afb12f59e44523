import { ApiError, call, type EventInfo } from '../api';
import { field, h, message } from '../dom';
import { formatDate, t, type Key } from '../i18n';
import { navigate, type ViewCtx } from '../router';
import { adminToken, clearAdminToken, saveAdminToken } from '../state';
import { errorBox } from './common';

/** Checks an admin token without side effects: a stats read of a performance that cannot exist. */
export async function tokenAccepted(token: string): Promise<boolean> {
  try {
    await call('GET', '/v1/admin/performances/prf_token_check/stats', { session: token });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return true;
    if (e instanceof ApiError && e.status === 401) return false;
    throw e;
  }
}

/** The admin token, or the token form in its place (returns null then). */
export function requireAdmin(main: HTMLElement): string | null {
  const tok = adminToken();
  if (tok) return tok;
  navigate(`/admin?next=${encodeURIComponent(location.pathname)}`, true);
  void main;
  return null;
}

export async function adminHomeView({ main, query, signal }: ViewCtx): Promise<void> {
  main.appendChild(h('h1', {}, t('admin.title')));
  const tok = adminToken();
  if (!tok) {
    const input = h('input', { type: 'password', name: 'admin_token', autocomplete: 'off', required: true });
    const out = h('div', { 'aria-live': 'polite' });
    const f = h('form', { class: 'form narrow' }, field(t('admin.token'), input, t('admin.token.help')),
      h('button', { type: 'submit' }, t('admin.login')), out);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        if (!(await tokenAccepted(input.value))) { out.replaceChildren(message('error', t('admin.bad_token'), 'admin-error')); return; }
        saveAdminToken(input.value);
        const next = query.get('next');
        navigate(next && next.startsWith('/admin') ? next : '/admin', true);
      } catch (err) { out.replaceChildren(errorBox(err)); }
    });
    main.appendChild(f);
    return;
  }
  main.appendChild(h('p', {}, h('a', { href: '/admin/new', class: 'button', 'data-testid': 'admin-create' }, t('admin.create')), ' ',
    h('button', { type: 'button', class: 'secondary', onclick: () => { clearAdminToken(); navigate('/admin', true); } }, t('admin.logout'))));
  main.appendChild(h('h2', {}, t('admin.performances')));
  try {
    const { data } = await call<{ events: EventInfo[] }>('GET', '/v1/events', { signal, revalidate: true });
    main.appendChild(h('ul', { class: 'cards' }, data.events.map((ev) => h('li', { class: 'card' },
      h('h3', {}, ev.title), h('p', { class: 'muted' }, ev.venue.name),
      h('ul', { class: 'perfs' }, ev.performances.map((p) => h('li', { class: 'perf' },
        h('span', {}, formatDate(p.starts_at), ' ', h('span', { class: `badge st-${p.status}` }, t(`status.${p.status}` as Key))),
        h('a', { href: `/admin/p/${encodeURIComponent(p.id)}`, class: 'button secondary', 'data-testid': `dash-${p.id}` }, t('admin.dashboard')))))))));
  } catch (e) { main.appendChild(errorBox(e)); }
}
