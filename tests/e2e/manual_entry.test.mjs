// Manual entry (issue 11) in the real window: a nurse records vitals on the patient screen and
// the new NEWS2 shows at once, with consciousness and oxygen scored as recorded; an invalid
// value is refused in words beside its field; a new patient registered from the worklist is
// found on it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApp, readyView, screenshot } from "./session.mjs";

let browser;

before(async () => {
  // Manual entry is the nurse's work.
  browser = await openApp("manual_entry", { account: "nurse" });
});

after(async () => {
  await browser?.deleteSession();
});

async function fill(id, value) {
  const el = await browser.$(`#${id}`);
  if ((await el.getTagName()) === "select") await el.selectByAttribute("value", value);
  else await el.setValue(value);
}

async function dialogSays(id, pattern) {
  const problem = await browser.$(`#${id}-problem`);
  await browser.waitUntil(async () => pattern.test(await problem.getText()), {
    timeout: 20_000,
    timeoutMsg: `${id} never said ${pattern}`,
  });
  return problem.getText();
}

async function news2Shown() {
  const panel = await browser.$("#news2-panel .news2-head .big");
  return panel.isExisting().then((yes) => (yes ? panel.getText() : null));
}

test("vitals entered on the patient screen show the new NEWS2 at once", async () => {
  await readyView(browser, "worklist");
  const row = await browser.$("#worklist tr[data-patient-id]");
  const id = await row.getAttribute("data-patient-id");
  await browser.execute((el) => el.focus(), row);
  await browser.keys(["Enter"]);
  const view = await readyView(browser, "patient");
  assert.equal(await view.getAttribute("data-patient-id"), id);

  // An implausible SpO2 is refused by the facade, in words, and its field is marked.
  await (await browser.$("#record-vitals")).click();
  await (await browser.$("#vitals-dialog")).waitForDisplayed({ timeout: 5_000 });
  await fill("vitals-spo2", "120");
  await (await browser.$("#vitals-dialog-save")).click();
  const refused = await dialogSays("vitals-dialog", /invalid spo2: /);
  assert.match(refused, /outside the plausible range/);
  assert.equal(await (await browser.$("#vitals-spo2")).getAttribute("aria-invalid"), "true");

  // Now a whole set: responds to voice (3) and on oxygen (2) with normal vitals: NEWS2 5 (RCP 2017).
  for (const [field, value] of [
    ["vitals-heart-rate", "80"],
    ["vitals-spo2", "97"],
    ["vitals-spo2-scale", "1"],
    ["vitals-oxygen", "oxygen"],
    ["vitals-resp-rate", "16"],
    ["vitals-bp", "125/80"],
    ["vitals-temperature", "37.0"],
    ["vitals-consciousness", "V"],
  ]) {
    await fill(field, value);
  }
  await (await browser.$("#vitals-dialog-save")).click();
  const saved = await dialogSays("vitals-dialog", /^Saved\./);
  assert.match(saved, /NEWS2 5 — Medium\.$/);
  await screenshot(browser, "11-record-vitals");
  await (await browser.$("#vitals-dialog-cancel")).click();

  // The screen behind it reloaded: the NEWS2 panel shows 5 with consciousness scored 3.
  await browser.waitUntil(async () => (await news2Shown()) === "5", { timeout: 20_000, timeoutMsg: "NEWS2 5 on the patient screen" });
  const panel = await (await browser.$("#news2-panel")).getText();
  assert.doesNotMatch(panel, /Assumed:/);
});

test("a new patient registered from the worklist is found on it", async () => {
  await (await browser.$('a[data-view="worklist"]')).click();
  await readyView(browser, "worklist");
  const before = (await browser.$$("#worklist tr[data-patient-id]")).length;
  await (await browser.$("#new-patient")).click();
  await (await browser.$("#patient-dialog")).waitForDisplayed({ timeout: 5_000 });
  // Without a name the form says so before anything is sent.
  await fill("patient-mrn", "E2E-NEW-1");
  await (await browser.$("#patient-dialog-save")).click();
  assert.match(await dialogSays("patient-dialog", /Name:/), /enter the patient's name/);
  await fill("patient-name", "Entry Newcomer");
  await (await browser.$("#patient-dialog-save")).click();
  assert.match(await dialogSays("patient-dialog", /^Registered/), /E2E-NEW-1/);
  await (await browser.$("#patient-dialog-cancel")).click();
  await browser.waitUntil(async () => (await browser.$$("#worklist tr[data-patient-id]")).length === before + 1, {
    timeout: 20_000,
    timeoutMsg: "the worklist shows the new patient",
  });
  await (await browser.$("#worklist-search")).setValue("E2E-NEW-1");
  await browser.waitUntil(async () => (await browser.$$("#worklist tr[data-patient-id]")).length === 1, {
    timeout: 5_000,
    timeoutMsg: "search finds the new patient",
  });
  assert.match(await (await browser.$("#worklist tr[data-patient-id]")).getText(), /Entry Newcomer/);
  // A second registration with the same MRN is refused in words.
  await (await browser.$("#new-patient")).click();
  await fill("patient-mrn", "E2E-NEW-1");
  await fill("patient-name", "Someone Else");
  await (await browser.$("#patient-dialog-save")).click();
  assert.match(await dialogSays("patient-dialog", /already exists/), /E2E-NEW-1/);
  await screenshot(browser, "12-new-patient");
  await (await browser.$("#patient-dialog-cancel")).click();
});
