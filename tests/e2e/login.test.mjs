// Signing in (issue 12): the window shows nothing of the store before someone signs in; a
// wrong password is refused in the backend's words; the right one opens the role's screens;
// signing out returns to the sign-in screen with nothing of the app left.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DEMO_PASSWORD, openApp, readyView, screenshot, signIn } from "./session.mjs";

let browser;

before(async () => {
  browser = await openApp("login", { account: null });
});

after(async () => {
  await browser?.deleteSession();
});

const visibleNav = () =>
  browser.execute(() => (document.getElementById("main-nav").hidden ? [] : [...document.querySelectorAll("a[data-view]")].filter((a) => !a.hidden).map((a) => a.dataset.view)));

test("a wrong password is refused in words and shows nothing of the store", async () => {
  const login = await readyView(browser, "login");
  // A DEMO store says which accounts and password to use.
  assert.match(await (await browser.$("#login-demo")).getText(), new RegExp(`clinician.*password ${DEMO_PASSWORD}`));
  assert.deepEqual(await visibleNav(), []);
  await screenshot(browser, "00-login", { selector: "#login-demo" });

  await (await browser.$("#login-name")).setValue("clinician");
  await (await browser.$("#login-password")).setValue("not-the-password");
  await (await browser.$("#login-submit")).click();
  const error = await browser.$("#login-error");
  await browser.waitUntil(async () => /wrong user name or password/.test(await error.getText()), {
    timeout: 20_000,
    timeoutMsg: "no sign-in error shown",
  });
  assert.equal(await error.getText(), "sign-in failed: wrong user name or password");
  assert.equal(await login.isDisplayed(), true);
  assert.equal(await (await browser.$("#login-password")).getValue(), "", "the password is not kept in the field");
  assert.equal(await (await browser.$("#view-worklist")).isExisting(), false);
  assert.equal(await (await browser.$("#session-bar")).isDisplayed(), false);
});

test("the right password shows the worklist, and signing out returns to the sign-in screen", async () => {
  await signIn(browser, "clinician");
  await readyView(browser, "worklist");
  assert.ok((await browser.$$("#worklist tr[data-patient-id]")).length > 0);
  assert.equal(await (await browser.$("#session-user")).getText(), "clinician (clinician)");
  assert.deepEqual(await visibleNav(), ["worklist", "alerts", "devices", "import", "agents", "settings"]);

  await (await browser.$("#sign-out-button")).click();
  await readyView(browser, "login");
  assert.equal(await (await browser.$("#view-worklist")).isExisting(), false);
  assert.deepEqual(await visibleNav(), []);
  assert.equal(await (await browser.$("#session-user")).getText(), "");
});

test("an auditor sees the audit trail and no patient screen", async () => {
  await signIn(browser, "auditor");
  await readyView(browser, "audit");
  assert.deepEqual(await visibleNav(), ["audit", "settings"]);
  assert.ok((await browser.$$("#audit-table tr[data-action]")).length > 0, "the seeding's events are listed");
  // The wrong password typed in the first test is in the trail.
  assert.ok((await browser.$$('#audit-table tr[data-action="session.login_failed"]')).length > 0, "the failed sign-in is audited");
  await screenshot(browser, "10-audit", { selector: "#audit-table tr[data-action]" });
  // A patient screen typed into the address is refused in words, not blank.
  await browser.execute(() => (window.location.hash = "#/worklist"));
  const denied = await browser.$("#view-denied");
  await denied.waitForDisplayed({ timeout: 5_000 });
  assert.match(await denied.getText(), /auditor role may not open the worklist/);
  await (await browser.$("#sign-out-button")).click();
  await readyView(browser, "login");
});
