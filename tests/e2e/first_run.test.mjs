// The first run (issue 12): a data directory with no store opens on the form for the store's
// first administrator (name, the password twice); a mismatch or a short password is caught
// before asking, the backend's own refusals are shown in its words; then the administrator is
// signed in, on the screens an administrator has.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApp, readyView } from "./session.mjs";

let first;

before(async () => {
  first = await openApp("first_run", { account: null, empty: true });
});

after(async () => {
  await first?.deleteSession();
});

test("the first run asks for the store's administrator, twice the password, then signs them in", async () => {
  await readyView(first, "first-run");
  const fill = async (name, password, again) => {
    await (await first.$("#admin-name")).setValue(name);
    await (await first.$("#admin-password")).setValue(password);
    await (await first.$("#admin-password-again")).setValue(again);
    await (await first.$("#admin-submit")).click();
  };
  const error = await first.$("#first-run-error");
  await fill("root", "correct horse battery", "correct horse batterY");
  await first.waitUntil(async () => /differ/.test(await error.getText()), { timeout: 10_000, timeoutMsg: "no mismatch error" });
  await fill("root", "short", "short");
  await first.waitUntil(async () => /at least 10/.test(await error.getText()), { timeout: 10_000, timeoutMsg: "no length error" });
  // The backend's own rule, in its words: the password may not be the user name.
  await fill("rootadmin01", "ROOTADMIN01", "ROOTADMIN01");
  await first.waitUntil(async () => /is the user name/.test(await error.getText()), { timeout: 10_000, timeoutMsg: "no refusal in the backend's words" });
  await fill("rootadmin01", "correct horse battery", "correct horse battery");
  await first.waitUntil(async () => (await (await first.$("#session-user")).getText()) === "rootadmin01 (administrator)", {
    timeout: 20_000,
    timeoutMsg: "the administrator was not signed in",
  });
  await readyView(first, "settings");
  assert.equal(await (await first.$("#demo-badge")).isDisplayed(), false, "a new store is not a DEMO store");
});
