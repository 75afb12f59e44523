import { call } from '../api';
import { field, h } from '../dom';
import { t } from '../i18n';
import { navigate, type ViewCtx } from '../router';
import { saveSession } from '../state';
import { errorBox } from './common';

function safeNext(q: URLSearchParams): string {
  const n = q.get('next') ?? '/';
  return n.startsWith('/') && !n.startsWith('//') ? n : '/';
}

async function logIn(email: string, password: string): Promise<void> {
  const { data } = await call<{ session_token: string; expires_at: string }>('POST', '/v1/sessions', { body: { email, password } });
  saveSession({ token: data.session_token, email, expiresAt: data.expires_at });
}

function form(ctx: ViewCtx, signup: boolean): void {
  const { main, query } = ctx;
  const next = safeNext(query);
  main.appendChild(h('h1', {}, t(signup ? 'auth.signup.title' : 'auth.login.title')));
  if (query.get('next')) main.appendChild(h('p', { class: 'muted' }, t(signup ? 'auth.needed_signup' : 'auth.needed')));
  const name = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: 200 });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: signup ? 'new-password' : 'current-password', required: true, minlength: signup ? 8 : 1 });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, t(signup ? 'auth.signup.submit' : 'auth.login.submit'));
  const f = h('form', { class: 'form narrow', novalidate: false },
    signup ? field(t('auth.name'), name) : null, field(t('auth.email'), email), field(t('auth.password'), password), submit, out);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    out.replaceChildren();
    try {
      if (signup) await call('POST', '/v1/accounts', { body: { email: email.value, password: password.value, name: name.value } });
      await logIn(email.value, password.value);
      navigate(next, true);
    } catch (err) {
      out.replaceChildren(errorBox(err));
      submit.disabled = false;
    }
  });
  main.appendChild(f);
  const other = signup ? '/login' : '/signup';
  main.appendChild(h('p', {}, h('a', { href: `${other}?next=${encodeURIComponent(next)}` }, t(signup ? 'auth.to.login' : 'auth.to.signup'))));
}

export const loginView = (ctx: ViewCtx) => form(ctx, false);
export const signupView = (ctx: ViewCtx) => form(ctx, true);
