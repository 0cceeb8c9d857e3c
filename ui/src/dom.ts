// A few DOM helpers so the views read as markup, without a framework.

export type Child = Node | string | number | null | undefined | false;
type Value = string | number | boolean | null | undefined;
export type Props = Record<string, Value | ((event: Event) => void)>;

/**
 * Creates an element: `h("button", { class: "primary", onclick: go }, "Start")`.
 * `true` sets an empty attribute, `false`/`null`/`undefined` leave it out; `on<event>` keys
 * add listeners; `text` sets the text content.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "text") {
      el.textContent = value == null ? "" : String(value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else if (value !== false && value != null) {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children, skipping empty ones. */
export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A view's root: `id="view-<name>"`, `data-state`, a focusable heading. */
export function viewRoot(name: string, title: string): { root: HTMLElement; heading: HTMLHeadingElement } {
  const heading = h("h1", { class: "view-title", tabindex: -1, id: `view-${name}-title` }, title);
  const root = h("section", {
    id: `view-${name}`,
    class: "view",
    "data-state": "loading",
    "aria-busy": "true",
    "aria-labelledby": heading.id,
  });
  return { root, heading };
}

export type LoadState = "loading" | "ready" | "error";

/** Sets `data-state` and the matching `aria-busy`. */
export function setState(el: HTMLElement, state: LoadState): void {
  el.dataset.state = state;
  el.setAttribute("aria-busy", state === "loading" ? "true" : "false");
}

/** An inline message in words (`role=alert` for errors). */
export function message(el: HTMLElement, text: string, kind: "info" | "error" | "success"): void {
  el.textContent = text;
  el.className = `message message-${kind}`;
  if (kind === "error") el.setAttribute("role", "alert");
  else el.setAttribute("role", "status");
  el.hidden = text === "";
}

/**
 * Re-renders `container` while keeping keyboard focus on the element with the same
 * `data-focus-key` (live tables refresh under the user's cursor).
 */
export function keepFocus(container: HTMLElement, render: () => void): void {
  const active = document.activeElement as HTMLElement | null;
  const key = active && container.contains(active) ? active.dataset.focusKey : undefined;
  render();
  if (key) {
    const again = container.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`);
    again?.focus();
  }
}
