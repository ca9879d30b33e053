// Building DOM nodes: every text goes in through textContent, never as markup, so a sensor
// named `<img src=x onerror=alert(1)>` is shown as those characters and runs nothing.

type Attrs = Record<string, string | boolean | undefined>;

/** An element with attributes (false/undefined ones left out) and text or child nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

/** The element with this id, which index.html must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no #${id}`);
  return node as T;
}

export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
