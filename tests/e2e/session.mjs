// One WebDriver session on the real app, started by tauri-driver (scripts/e2e.sh starts it),
// and the helpers every test file uses.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { remote } from "webdriverio";

/**
 * The data directory of test file `name`'s own copy of the seeded store. scripts/e2e.sh seeds
 * one store and nobody opens it afterwards; each file works on a fresh copy, so what one file
 * changes (an alert acknowledged, a model rolled back, a file imported) no other file sees,
 * whatever order they run in.
 */
export function storeFor(name) {
  const work = process.env.VIGIL_E2E_WORK;
  const dir = join(work, "stores", name);
  if (!existsSync(dir)) cpSync(join(work, "data"), dir, { recursive: true });
  return dir;
}

/** The password of every account `vigil demo` makes. */
export const DEMO_PASSWORD = "vigil-demo";

/**
 * The real app (on `name`'s copy of the seeded store; without a name, on VIGIL_DATA_DIR),
 * signed in as `account` (a demo account; null: left on the sign-in or first-run screen).
 */
export async function openApp(name, { account = "clinician", empty = false } = {}) {
  // `empty`: a data directory with no store yet (the window's first run creates it).
  const dir = name && (empty ? join(process.env.VIGIL_E2E_WORK, "empty", name) : storeFor(name));
  const args = name ? ["--data-dir", dir] : [];
  const browser = await remote({
    hostname: "127.0.0.1",
    port: 4444,
    logLevel: "warn",
    capabilities: {
      "tauri:options": { application: process.env.VIGIL_E2E_APP, args },
    },
  });
  if (account) await signIn(browser, account);
  return browser;
}

/** Fills the sign-in screen and waits for the app (the header names who is signed in). */
export async function signIn(browser, account, password = DEMO_PASSWORD) {
  const name = await browser.$("#login-name");
  await name.waitForDisplayed({ timeout: 30_000, timeoutMsg: "no sign-in screen" });
  await name.setValue(account);
  await (await browser.$("#login-password")).setValue(password);
  await (await browser.$("#login-submit")).click();
  try {
    await browser.waitUntil(async () => (await (await browser.$("#session-user")).getText()).startsWith(`${account} (`), { timeout: 20_000 });
  } catch {
    const why = await browser.execute(() => document.getElementById("login-error")?.textContent ?? "");
    throw new Error(`${account} could not sign in: ${why}`);
  }
}

/** `vigil ARGS` on test file `name`'s store copy, as the command-line session `cliLogin` opened. */
export function cli(name, ...args) {
  return execFileSync(process.env.VIGIL_E2E_APP, ["--data-dir", storeFor(name), ...args], { env: process.env });
}

/** Signs `account` in on the command line for `name`'s store copy (the password on stdin). */
export function cliLogin(name, account = "clinician") {
  execFileSync(process.env.VIGIL_E2E_APP, ["--data-dir", storeFor(name), "login", account], {
    env: process.env,
    input: `${DEMO_PASSWORD}\n`,
  });
}

/**
 * Saves a screenshot of the window as <name>.png in the screenshot folder, once its data is
 * drawn: `shows.selector` is displayed with text (containing `shows.text` when given), no
 * loading placeholder (`.skeleton`) or busy region (`aria-busy="true"`) is on screen, and the
 * page has painted two frames since. A view's `data-state` turns ready in the same task that
 * fills it, before WebKit paints: a screenshot taken then showed the loading skeleton.
 */
export async function screenshot(browser, name, shows) {
  if (shows) {
    const el = await browser.$(shows.selector);
    await browser.waitUntil(
      async () => {
        if (!(await el.isExisting()) || !(await el.isDisplayed())) return false;
        const text = (await el.getText()).trim();
        return text !== "" && (shows.text == null || text.includes(shows.text));
      },
      { timeout: 20_000, timeoutMsg: `screenshot ${name}: ${shows.selector} never showed ${shows.text ?? "its data"}` },
    );
  }
  await browser.waitUntil(
    () =>
      browser.execute(
        () => ![...document.querySelectorAll('.skeleton, [aria-busy="true"]')].some((el) => el.getClientRects().length > 0),
      ),
    { timeout: 20_000, timeoutMsg: `screenshot ${name}: a placeholder or a busy region is still on screen` },
  );
  await browser.execute(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(true)))));
  const dir = process.env.VIGIL_E2E_SCREENSHOTS ?? "screenshots";
  mkdirSync(dir, { recursive: true });
  await browser.saveScreenshot(join(dir, `${name}.png`));
}

/** A JSON file scripts/e2e.sh wrote while seeding (what the CLI reported). */
export function seeded(name) {
  return JSON.parse(readFileSync(join(process.env.VIGIL_E2E_WORK, name), "utf8"));
}

/** Opens a view from the navigation and waits until it is ready (or failed, which fails). */
export async function openView(browser, view) {
  await (await browser.$(`a[data-view="${view}"]`)).click();
  return readyView(browser, view);
}

/** Waits for `#view-<name>` to be ready; an error state fails with the page's message. */
export async function readyView(browser, view) {
  const root = await browser.$(`#view-${view}`);
  await root.waitForExist({ timeout: 30_000 });
  await browser.waitUntil(async () => (await root.getAttribute("data-state")) !== "loading", {
    timeout: 30_000,
    timeoutMsg: `view ${view} still loading`,
  });
  const state = await root.getAttribute("data-state");
  if (state !== "ready") {
    throw new Error(`view ${view} is ${state}: ${await root.getText()}`);
  }
  return root;
}
