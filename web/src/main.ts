/**
 * The risk dashboard: sign-in with an API key, a header with the views the key may see, and
 * a hash router (`#/overview`, `#/risk`, `#/liquidations`, `#/account/ID`, `#/parameters`).
 * A reader-type key sees everything; an owner key sees only its own account.
 *
 * The key comes from `#key=…` in the address (what `npm start` prints) or from the form. It
 * is kept in sessionStorage (gone when the tab closes) and removed from the address at once.
 */
import './style.css';
import { Api, ApiError } from './api.ts';
import { fill, h, notice } from './dom.ts';
import { Live, type LiveState } from './live.ts';
import type { Route, RouteName, View, ViewContext } from './context.ts';
import type { Session } from './types.ts';
import { accountView } from './views/account.ts';
import { feedView } from './views/feed.ts';
import { overviewView } from './views/overview.ts';
import { parametersView } from './views/parameters.ts';
import { riskView } from './views/risk.ts';

const KEY_STORAGE = 'collateral-engine.key';
const ACCOUNT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

const VIEWS: Readonly<Record<RouteName, View>> = {
  overview: overviewView,
  risk: riskView,
  liquidations: feedView,
  account: accountView,
  parameters: parametersView,
};

const NAV: readonly { name: RouteName; label: string }[] = [
  { name: 'overview', label: 'Overview' },
  { name: 'risk', label: 'Risk' },
  { name: 'liquidations', label: 'Liquidations' },
  { name: 'account', label: 'Accounts' },
  { name: 'parameters', label: 'Parameters' },
];

function allowedViews(session: Session): readonly RouteName[] {
  if (session.role === 'owner') return ['account'];
  if (session.role === 'oracle') return ['overview'];
  return NAV.map((entry) => entry.name);
}

export function parseRoute(hash: string, session: Session): Route {
  const [, name = '', id] = /^#\/([a-z]*)(?:\/(.*))?$/.exec(hash) ?? [];
  const allowed = allowedViews(session);
  if (session.role === 'owner') {
    const account = name === 'account' && id !== undefined ? decodeURIComponent(id) : (session.account ?? '');
    return { name: 'account', id: account };
  }
  if (!allowed.includes(name as RouteName)) return { name: allowed[0] ?? 'overview' };
  if (name === 'account' && id !== undefined) {
    const account = decodeURIComponent(id);
    return ACCOUNT_ID.test(account) ? { name: 'account', id: account } : { name: 'account' };
  }
  return { name: name as RouteName };
}

const root = document.getElementById('app') as HTMLElement;

function takeKeyFromAddress(): void {
  const match = /^#key=([^&]+)$/.exec(location.hash);
  if (match?.[1] === undefined) return;
  sessionStorage.setItem(KEY_STORAGE, decodeURIComponent(match[1]));
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
}

async function boot(message?: string): Promise<void> {
  takeKeyFromAddress();
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key === null || key === '') {
    signIn(message);
    return;
  }
  const api = new Api(key);
  let session: Session;
  try {
    session = await api.get<Session>('/v1/session');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(KEY_STORAGE);
      signIn('This key is not known to the service. Check it and try again.');
      return;
    }
    fill(
      root,
      h('main', { class: 'signin' }, notice(`Cannot reach the service: ${(error as Error).message}`), h('button', { type: 'button', onclick: () => void boot() }, 'Retry')),
    );
    return;
  }
  shell(api, session);
}

function signIn(message?: string): void {
  const input = h('input', { type: 'password', name: 'key', id: 'key', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'ce_…' });
  const form = h(
    'form',
    {
      class: 'signin card',
      onsubmit: (event: Event) => {
        event.preventDefault();
        sessionStorage.setItem(KEY_STORAGE, input.value.trim());
        void boot();
      },
    },
    h('h1', {}, 'Collateral Engine'),
    h('p', {}, 'Sign in with an API key. A reader key sees the whole book; an owner key sees its own account.'),
    message === undefined ? null : notice(message),
    h('label', { for: 'key' }, 'API key'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    h('p', { class: 'hint' }, 'npm start prints a link with the demo admin key. Make keys with collateral keys create --role reader.'),
  );
  fill(root, h('main', { class: 'signin-page' }, form));
  input.focus();
}

function shell(api: Api, session: Session): void {
  const live = new Live(api.streamUrl());
  live.start();
  const context: ViewContext = { api, live, session };
  const allowed = allowedViews(session);
  const links = NAV.filter((entry) => allowed.includes(entry.name)).map((entry) =>
    h('a', { href: entry.name === 'account' && session.account !== null ? `#/account/${session.account}` : `#/${entry.name}`, 'data-view': entry.name }, session.role === 'owner' ? 'My account' : entry.label),
  );
  const liveState = h('span', { class: 'live-state', 'data-testid': 'live-state', role: 'status' });
  const showState = (state: LiveState) => {
    liveState.className = `live-state live-${state}`;
    liveState.textContent = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline, retrying';
  };
  const main = h('main', { id: 'view' });
  let stopView = () => {};
  const render = () => {
    stopView();
    const route = parseRoute(location.hash, session);
    for (const link of links) link.classList.toggle('active', link.dataset.view === route.name);
    main.replaceChildren();
    window.scrollTo(0, 0);
    stopView = VIEWS[route.name](context, main, route);
  };
  const signOut = () => {
    stopView();
    live.stop();
    unlisten();
    window.removeEventListener('hashchange', render);
    sessionStorage.removeItem(KEY_STORAGE);
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    signIn('Signed out.');
  };
  const unlisten = live.onState(showState);
  const who = session.role === 'owner' ? `owner · ${session.account ?? '?'}` : `${session.role} key`;
  fill(
    root,
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '#/' }, h('img', { src: '/favicon.svg', alt: '', width: 22, height: 22 }), 'Collateral Engine'),
      h('nav', { 'aria-label': 'Views' }, links),
      h('div', { class: 'who' }, liveState, h('span', { class: 'role', 'data-testid': 'role' }, who), h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out')),
    ),
    main,
  );
  window.addEventListener('hashchange', render);
  render();
}

window.addEventListener('hashchange', () => {
  // A new `#key=` while signed in (a pasted link): sign in again with it.
  if (location.hash.startsWith('#key=')) location.reload();
});

void boot();
