// A tiny DOM builder. The webview never uses innerHTML: names, descriptions and values are
// set as text, so nothing from the server is parsed as markup (and the CSP needs no inline style).

type AttrValue = string | number | boolean | null | undefined;
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, AttrValue>, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Record<string, AttrValue>, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Replaces an element's children. */
export function setChildren(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** A codicon from the codicons stylesheet (decorative: hidden from screen readers). */
export function icon(name: string, extraClass = ''): HTMLElement {
  return h('span', { class: `codicon codicon-${name}${extraClass ? ' ' + extraClass : ''}`, 'aria-hidden': 'true' });
}

export function toggle(el: Element, hidden: boolean): void {
  if (hidden) el.setAttribute('hidden', '');
  else el.removeAttribute('hidden');
}

let whenFormat: Intl.DateTimeFormat | undefined;

export function formatWhen(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  // One formatter for every row: Date.toLocaleString builds a new one per call (slow for thousands).
  whenFormat ??= new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return Number.isNaN(d.getTime()) ? iso : whenFormat.format(d);
}
