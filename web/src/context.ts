/** What every view gets, and the shape of a view. */
import type { Api } from './api.ts';
import type { Live } from './live.ts';
import type { Role, Session } from './types.ts';

export type RouteName = 'overview' | 'risk' | 'liquidations' | 'account' | 'parameters';

export interface Route {
  readonly name: RouteName;
  /** The account of `#/account/ID`. */
  readonly id?: string;
}

export interface ViewContext {
  readonly api: Api;
  readonly live: Live;
  readonly session: Session;
}

/** Draws a view into `root`; returns what stops its timers and subscriptions. */
export type View = (context: ViewContext, root: HTMLElement, route: Route) => () => void;

/** Roles that read the whole book (the service's READERS). */
export function readsBook(role: Role): boolean {
  return role === 'admin' || role === 'reader' || role === 'venue' || role === 'keeper';
}
