/**
 * A small element builder. Text always goes in as text (never as HTML), so nothing the
 * service or a user sends can become markup.
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Handler = (event: Event) => void;
export type Props = Readonly<Record<string, string | number | boolean | Handler | null | undefined>>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === 'value' && 'value' in element) (element as HTMLInputElement).value = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child as readonly Child[]);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `parent`. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A card: a titled section of the page. */
export function card(title: string, props: Props, ...children: Child[]): HTMLElement {
  return h('section', { ...props, class: `card ${String(props.class ?? '')}`.trim() }, h('h2', {}, title), ...children);
}

/** A status pill ("healthy", "warning", "liquidatable", "fresh", "halted", …). */
export function pill(kind: string, text: string = kind, title?: string): HTMLElement {
  return h('span', { class: `pill pill-${kind}`, title }, text);
}

/** An error notice in place of data. */
export function notice(message: string, kind: 'error' | 'info' = 'error'): HTMLElement {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
}

export interface TableOptions {
  /** Columns hidden on narrow screens. */
  readonly optional?: readonly number[];
  /** On narrow screens, each row becomes a block of "label value" lines (wide tables). */
  readonly stack?: boolean;
}

/** A table with a header; each cell knows its column's name (shown when rows are stacked). */
export function table(headers: readonly (string | HTMLElement)[], rows: readonly HTMLTableRowElement[], options: TableOptions = {}): HTMLElement {
  const optional = options.optional ?? [];
  const head = h('tr', {}, headers.map((header, index) => h('th', { class: optional.includes(index) ? 'opt' : null, scope: 'col' }, header)));
  const labels = headers.map((header) => (typeof header === 'string' ? header : (header.textContent ?? '')).replace(/[▲▼]/g, '').trim());
  for (const row of rows) {
    for (const [index, cell] of [...row.cells].entries()) {
      if (optional.includes(index)) cell.classList.add('opt');
      if (labels[index] !== undefined && labels[index] !== '') cell.dataset.label = labels[index];
    }
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: options.stack === true ? 'stack' : null }, h('thead', {}, head), h('tbody', {}, rows)));
}

/** Calls `fn` at most once per `ms` (trailing call kept). */
export function throttle(fn: () => void, ms: number): { (): void; cancel(): void } {
  let timer: number | undefined;
  let lastMs = 0;
  const run = () => {
    timer = undefined;
    lastMs = Date.now();
    fn();
  };
  const throttled = () => {
    if (timer !== undefined) return;
    const waitMs = Math.max(0, lastMs + ms - Date.now());
    timer = window.setTimeout(run, waitMs);
  };
  throttled.cancel = () => window.clearTimeout(timer);
  return throttled;
}
