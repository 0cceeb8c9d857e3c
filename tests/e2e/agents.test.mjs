// Agents and models: the live pools, the installed packages, and a rollback behind its
// confirmation, which shows in the packages and the events.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApp, openView, screenshot } from "./session.mjs";

let browser;

before(async () => {
  // Rolling a model package back is IT's (packages.manage).
  browser = await openApp("agents", { account: "it" });
});

after(async () => {
  await browser?.deleteSession();
});

const state = async (name, version) =>
  (await browser.$(`#packages tr[data-package="${name}"][data-version="${version}"]`)).getAttribute("data-state");

test("a rollback shows in the models view", async () => {
  await openView(browser, "agents");
  assert.match(await (await browser.$("#pools")).getText(), /early_warning/);
  // scripts/e2e.sh activated 1.1.0 over the demo's 1.0.0.
  assert.equal(await state("early-warning-gbt", "1.1.0"), "active");
  assert.equal(await state("early-warning-gbt", "1.0.0"), "previous");
  assert.match(await (await browser.$("#packages")).getText(), /demonstration model, not for clinical use/i);
  await screenshot(browser, "06-agents", { selector: "#pools", text: "early_warning" });

  const row = await browser.$('#packages tr[data-package="early-warning-gbt"][data-version="1.1.0"]');
  await (await row.$('button[data-action="rollback"]')).click();
  const dialog = await browser.$("dialog#confirm-dialog");
  await dialog.waitForDisplayed({ timeout: 5_000 });
  assert.match(await dialog.getText(), /early-warning-gbt/);
  await (await browser.$("button#confirm-ok")).click();
  await browser.waitUntil(async () => (await state("early-warning-gbt", "1.0.0")) === "active", {
    timeout: 10_000,
    timeoutMsg: "1.0.0 active again",
  });
  assert.equal(await state("early-warning-gbt", "1.1.0"), "installed");
  assert.match(await (await browser.$("#agents-message")).getText(), /rolled back/);
  const newest = await browser.$("#model-events li");
  assert.match(await newest.getText(), /rolled.back/i);
  await browser.execute(() => document.querySelector("#packages")?.scrollIntoView());
  await screenshot(browser, "06-agents-rolled-back", { selector: "#model-events li" });
});
