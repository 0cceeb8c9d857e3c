// The idle lock (issue 12, HIPAA automatic logoff): this file's store locks after 1 idle minute
// (scripts/e2e.sh sets idle_lock_minutes). With a patient open and no input, the window locks
// by itself and removes every patient datum from the page, not merely covering it; unlocking
// reads the screens again from the backend.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DEMO_PASSWORD, openApp, readyView, screenshot } from "./session.mjs";

let browser;

before(async () => {
  browser = await openApp("idle_lock");
});

after(async () => {
  await browser?.deleteSession();
});

test("an idle session locks and the page forgets every patient; unlock brings the worklist back", async () => {
  await readyView(browser, "worklist");
  const names = await browser.execute(() => [...document.querySelectorAll("#worklist tr[data-patient-id] th.name")].map((th) => th.textContent.trim()));
  assert.ok(names.length >= 8, `the demo's patients: ${names}`);
  // Open a patient from the keyboard (real input, which the page reports once).
  const first = await browser.$("#worklist tr[data-patient-id]");
  const id = await first.getAttribute("data-patient-id");
  await browser.execute((el) => el.focus(), first);
  await browser.keys(["Enter"]);
  await readyView(browser, "patient");
  assert.equal(await (await browser.$("#patient-name")).getText(), names[0]);

  // No input from here on: WebDriver's reads send no events to the page.
  const started = Date.now();
  const lock = await browser.$("#view-lock");
  await lock.waitForDisplayed({ timeout: 100_000, interval: 1_000, timeoutMsg: "the session did not lock after a minute without input" });
  const waited = Math.round((Date.now() - started) / 1000);
  assert.ok(waited >= 40, `locked after ${waited} s, not before the idle minute`);

  const html = await browser.execute(() => document.documentElement.outerHTML);
  for (const name of names) assert.ok(!html.includes(name), `${name} is still in the page`);
  assert.ok(!html.includes(id), "the patient's id is still in the page");
  assert.ok(!(await browser.execute(() => location.href)).includes(id), "the address still names the patient");
  assert.equal(await (await browser.$("#view-patient")).isExisting(), false);
  assert.equal(await (await browser.$("#main-nav")).isDisplayed(), false);
  assert.match(await (await browser.$("#lock-user")).getText(), /clinician \(clinician, locked\)/);
  await screenshot(browser, "09-locked", { selector: "#lock-user" });

  // A wrong password is refused in words; the right one unlocks.
  await (await browser.$("#unlock-password")).setValue("not-the-password");
  await (await browser.$("#unlock-submit")).click();
  await browser.waitUntil(async () => /wrong user name or password/.test(await (await browser.$("#unlock-error")).getText()), {
    timeout: 20_000,
    timeoutMsg: "no unlock error shown",
  });
  await (await browser.$("#unlock-password")).setValue(DEMO_PASSWORD);
  await (await browser.$("#unlock-submit")).click();
  await readyView(browser, "worklist");
  const again = await browser.execute(() => [...document.querySelectorAll("#worklist tr[data-patient-id] th.name")].map((th) => th.textContent.trim()));
  assert.deepEqual(again, names, "the worklist is read again from the backend");
  console.log(`locked after ${waited} s without input`);
});
