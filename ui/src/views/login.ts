// The screens before the app: the first run (the store's first administrator), sign-in (with the
// demo accounts on a DEMO store), the lock screen (unlock, or switch user) and the store that
// could not be opened. Passwords are cleared from their fields once sent; every refusal is
// shown in the backend's words (wrong password, lockout, disabled account).
import { commands, type SessionInfo } from "../bindings";
import { h, message, setState, viewRoot } from "../dom";
import { errorText } from "../errors";
import { DEMO_ACCOUNTS, MIN_PASSWORD_CHARS, newAdminProblem, whoText } from "../logic/session";

/** Calls `action` with the form locked; its error goes to `problem` in words. */
function submitting(form: HTMLFormElement, problem: HTMLElement, action: () => Promise<void>): void {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    form.setAttribute("aria-busy", "true");
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    message(problem, "Checking…", "info");
    action()
      .then(() => message(problem, "", "info"))
      .catch((err: unknown) => {
        message(problem, errorText(err), "error");
        const password = form.querySelector<HTMLInputElement>('input[type="password"]');
        password?.focus();
      })
      .finally(() => {
        for (const p of form.querySelectorAll<HTMLInputElement>('input[type="password"]')) p.value = "";
        form.setAttribute("aria-busy", "false");
        for (const b of form.querySelectorAll("button")) b.disabled = false;
      });
  });
}

function field(id: string, label: string, type: "text" | "password", autocomplete: string): { el: HTMLElement; input: HTMLInputElement } {
  const input = h("input", { id, type, autocomplete, spellcheck: "false", autocapitalize: "off", required: true });
  return { el: h("div", { class: "field" }, h("label", { for: id }, label), input), input };
}

function demoNote(password: string | null): HTMLElement | null {
  if (password === null) return null;
  return h(
    "p",
    { id: "login-demo", class: "message message-info", role: "note" },
    "DEMO store: sign in as ",
    ...DEMO_ACCOUNTS.flatMap((a, i) => [i === 0 ? "" : i === DEMO_ACCOUNTS.length - 1 ? " or " : ", ", h("code", {}, a)]),
    ", password ",
    h("code", { id: "login-demo-password" }, password),
    ".",
  );
}

/** Sign-in: name and password. */
export function mountSignIn(main: HTMLElement, demoPassword: string | null, done: () => Promise<void>): void {
  const { root, heading } = viewRoot("login", "Sign in to Vigil");
  const name = field("login-name", "User name", "text", "username");
  const password = field("login-password", "Password", "password", "current-password");
  const problem = h("p", { id: "login-error", class: "message", hidden: true });
  const submit = h("button", { type: "submit", id: "login-submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "card session-card", novalidate: true, "aria-labelledby": heading.id }, heading, demoNote(demoPassword), name.el, password.el, problem, h("div", { class: "form-row" }, submit));
  submitting(form, problem, async () => {
    await commands.signIn(name.input.value.trim(), password.input.value);
    await done();
  });
  root.append(form);
  main.replaceChildren(root);
  setState(root, "ready");
  name.input.focus();
}

/** The first run: the store has no account yet; its first administrator is made here. */
export function mountFirstRun(main: HTMLElement, done: () => Promise<void>): void {
  const { root, heading } = viewRoot("first-run", "Create the administrator");
  const intro = h(
    "p",
    {},
    "This store has no accounts yet. Create its first administrator: they add the clinicians, nurses and other accounts. ",
    `The password needs at least ${MIN_PASSWORD_CHARS} characters; a long passphrase is best.`,
  );
  const name = field("admin-name", "Administrator's user name", "text", "username");
  const password = field("admin-password", "Password", "password", "new-password");
  const again = field("admin-password-again", "Password again", "password", "new-password");
  const problem = h("p", { id: "first-run-error", class: "message", hidden: true });
  const submit = h("button", { type: "submit", id: "admin-submit", class: "primary" }, "Create and sign in");
  const form = h("form", { class: "card session-card", novalidate: true, "aria-labelledby": heading.id }, heading, intro, name.el, password.el, again.el, problem, h("div", { class: "form-row" }, submit));
  submitting(form, problem, async () => {
    const issue = newAdminProblem(name.input.value, password.input.value, again.input.value);
    if (issue) throw issue;
    await commands.createAdmin(name.input.value.trim(), password.input.value);
    await done();
  });
  root.append(form);
  main.replaceChildren(root);
  setState(root, "ready");
  name.input.focus();
}

/** The lock screen: the same person unlocks with their password, or someone else signs in. */
export function mountLock(main: HTMLElement, info: SessionInfo, demoPassword: string | null, done: () => Promise<void>, signOut: () => void): void {
  const { root, heading } = viewRoot("lock", "Vigil is locked");
  const who = h("p", { id: "lock-user" }, `Signed in: ${whoText(info)}. Patient data was removed from the screen; it is read again after unlocking.`);
  const alertsNote = h("p", { id: "lock-alerts-note", class: "message message-info", role: "status", hidden: true }, "Alerts changed while the screen was locked: unlock to see them.");
  const password = field("unlock-password", `Password for ${info.user}`, "password", "current-password");
  const problem = h("p", { id: "unlock-error", class: "message", hidden: true });
  const unlock = h("button", { type: "submit", id: "unlock-submit", class: "primary" }, "Unlock");
  const switchUser = h("button", { type: "button", id: "switch-user", class: "secondary", "aria-expanded": "false", "aria-controls": "switch-form" }, "Switch user");
  const out = h("button", { type: "button", id: "lock-sign-out", class: "secondary" }, "Sign out");
  const form = h("form", { class: "card session-card", novalidate: true, "aria-labelledby": heading.id }, heading, who, alertsNote, password.el, problem, h("div", { class: "form-row" }, unlock, switchUser, out));

  const otherName = field("switch-name", "User name", "text", "username");
  const otherPassword = field("switch-password", "Password", "password", "current-password");
  const otherProblem = h("p", { id: "switch-error", class: "message", hidden: true });
  const other = h(
    "form",
    { id: "switch-form", class: "card session-card", novalidate: true, hidden: true, "aria-label": "Sign in as someone else" },
    h("h2", {}, "Sign in as someone else"),
    demoNote(demoPassword),
    otherName.el,
    otherPassword.el,
    otherProblem,
    h("div", { class: "form-row" }, h("button", { type: "submit", id: "switch-submit", class: "primary" }, "Sign in")),
  );
  submitting(form, problem, async () => {
    await commands.unlock(password.input.value);
    await done();
  });
  submitting(other, otherProblem, async () => {
    await commands.signIn(otherName.input.value.trim(), otherPassword.input.value);
    await done();
  });
  switchUser.addEventListener("click", () => {
    other.hidden = !other.hidden;
    switchUser.setAttribute("aria-expanded", String(!other.hidden));
    (other.hidden ? password.input : otherName.input).focus();
  });
  out.addEventListener("click", signOut);
  const missed = () => (alertsNote.hidden = false);
  window.addEventListener("vigil:alerts-missed", missed);
  root.append(form, other);
  main.replaceChildren(root);
  setState(root, "ready");
  password.input.focus();
  // The note's listener goes when the screen does.
  new MutationObserver((_, observer) => {
    if (!root.isConnected) {
      window.removeEventListener("vigil:alerts-missed", missed);
      observer.disconnect();
    }
  }).observe(main, { childList: true });
}

/** The store could not be opened (wrong key, another program...): nobody can sign in. */
export function mountUnavailable(main: HTMLElement, why: string): void {
  const { root, heading } = viewRoot("unavailable", "The store could not be opened");
  root.append(heading, h("p", { id: "unavailable-reason", class: "message message-error", role: "alert" }, why));
  main.replaceChildren(root);
  setState(root, "error");
}
