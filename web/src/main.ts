import './style.css';
import { detectLang, lang, setLang, t, type Lang } from './i18n';
import { h, clear } from './dom';
import { call } from './api';
import { installLinkHandler, navigate, onRender, render, route } from './router';
import { clearSession, session, adminToken } from './state';
import { eventsView } from './views/events';
import { loginView, signupView } from './views/auth';
import { waitingView } from './views/waiting';
import { seatsView } from './views/seats';
import { orderView } from './views/order';
import { waitlistView } from './views/waitlist';
import { ordersView } from './views/orders';
import { adminHomeView } from './views/admin-home';
import { adminCreateView } from './views/admin-create';
import { dashboardView } from './views/dashboard';
import { doorView } from './views/door';

function chooseLang(): void {
  setLang(detectLang(localStorage.getItem('tk.lang'), navigator.languages ?? [navigator.language]));
  document.documentElement.lang = lang();
  document.title = t('app.title');
}

function header(): void {
  const top = document.getElementById('top') as HTMLElement;
  clear(top);
  const s = session();
  const other: Lang = lang() === 'ko' ? 'en' : 'ko';
  const isAdmin = location.pathname.startsWith('/admin');
  const links = isAdmin
    ? [h('a', { href: '/admin' }, t('admin.title')), adminToken() ? h('a', { href: '/admin/new' }, t('admin.create')) : null,
       h('a', { href: '/door' }, t('nav.door')),
       h('a', { href: '/' }, t('nav.events'))]
    : [h('a', { href: '/' }, t('nav.events')),
       s ? h('a', { href: '/me/orders' }, t('nav.orders')) : null,
       s ? h('button', { type: 'button', class: 'link', 'data-testid': 'logout', onclick: () => void logout() }, t('nav.logout'))
         : h('a', { href: '/login' }, t('nav.login'))];
  top.appendChild(h('nav', { class: 'topbar', 'aria-label': 'main' },
    h('a', { href: isAdmin ? '/admin' : '/', class: 'brand' }, isAdmin ? t('admin.title') : t('app.title')),
    h('div', { class: 'links' }, links,
      // The accessible name starts with the visible text (voice control users say what they see).
      h('button', { type: 'button', class: 'lang', 'aria-label': `${t('nav.lang')} — ${t('nav.lang.label')}`, 'data-testid': 'lang-switch',
        onclick: () => { localStorage.setItem('tk.lang', other); chooseLang(); void render(); } }, h('span', { lang: other }, t('nav.lang'))))));
  const skip = document.querySelector('.skip');
  if (skip) skip.textContent = t('app.skip');
}

async function logout(): Promise<void> {
  const s = session();
  clearSession();
  if (s) await call('DELETE', '/v1/sessions/current', { session: s.token }).catch(() => undefined);
  navigate('/');
}

route('/', eventsView);
route('/login', loginView);
route('/signup', signupView);
route('/p/:pid/queue', waitingView);
route('/p/:pid/seats', seatsView);
route('/p/:pid/waitlist', waitlistView);
route('/orders/:oid', orderView);
route('/me/orders', ordersView);
route('/admin', adminHomeView);
route('/admin/new', adminCreateView);
route('/admin/p/:pid', dashboardView);
route('/door', doorView);

chooseLang();
onRender(() => { header(); (document.getElementById('main') as HTMLElement).focus({ preventScroll: true }); });
installLinkHandler();
void render();
