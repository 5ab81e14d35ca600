/** Elements built with text nodes only, so nothing from the database is ever parsed as markup. */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

export function section(title: string, id: string, ...children: Child[]): HTMLElement {
  return h('section', { id }, h('h2', {}, title), ...children);
}

/** Colour and word both: running, interrupted, failed and diverged runs must read apart in grey print too. */
export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `status status-${status}` }, status);
}

export function runLink(id: string): HTMLAnchorElement {
  return h('a', { href: `#/run/${encodeURIComponent(id)}`, class: 'run-id' }, id);
}

export function table(head: string[], rows: Child[][], attributes: Record<string, string> = {}): HTMLTableElement {
  return h('table', attributes, h('thead', {}, h('tr', {}, ...head.map((cell) => h('th', {}, cell)))), h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell) => h('td', {}, cell))))));
}
