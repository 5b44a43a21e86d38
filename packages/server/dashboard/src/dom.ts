/** `document.getElementById`, typed, failing loudly when the page lacks the element. */
export function byId<E extends HTMLElement = HTMLElement>(id: string): E {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as E;
}

/** A new element with text content: cache keys and values are shown as text, never parsed as HTML. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, text = '', className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** Put `text` in every `[data-<kind>="<name>"]` of the page. */
export function show(kind: 'stat' | 'session', name: string, text: string): void {
  for (const node of document.querySelectorAll<HTMLElement>(`[data-${kind}="${name}"]`)) node.textContent = text;
}

const banner = () => byId('banner');

/** A problem the user should see (server unreachable, key refused); `undefined` clears it. */
export function alertBanner(message: string | undefined): void {
  banner().hidden = message === undefined;
  banner().textContent = message ?? '';
}
