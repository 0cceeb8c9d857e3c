// Bluetooth devices in the window (issue 13): on a demo store the window replays the DEMO
// heart-rate strap (its bundled recording, at real time) into the patient it is assigned to.
// The open patient's heart-rate tile changes while it streams, with the "live" chip, and the
// Devices screen shows the strap connected with the battery the recording reads (95 %).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { cli, cliLogin, openApp, openView, readyView, screenshot } from "./session.mjs";

const STRAP = "02:56:49:47:49:4C";
const PATIENT = "DEMO-0001";
let browser;

before(async () => {
  // scripts/e2e.sh unassigned the strap in the seeded store; this file's copy streams it.
  cliLogin("devices");
  cli("devices", "ble", "assign", STRAP, PATIENT);
  cli("devices", "logout");
  browser = await openApp("devices");
});

after(async () => {
  await browser?.deleteSession();
});

const heartRate = () => browser.execute(() => document.querySelector('#view-patient .tile[data-vital="heart_rate"] .tile-value')?.firstChild?.textContent ?? "");

test("a replayed device makes the open patient's heart rate change, live", async () => {
  await readyView(browser, "worklist");
  const id = await browser.execute(
    (mrn) => [...document.querySelectorAll("#worklist tr[data-patient-id]")].find((r) => r.textContent.includes(mrn))?.dataset.patientId ?? "",
    PATIENT,
  );
  assert.ok(id, `${PATIENT} is on the worklist`);
  await browser.execute((pid) => (location.hash = `#/patient/${encodeURIComponent(pid)}`), id);
  await readyView(browser, "patient");
  const live = await browser.$("#patient-live");
  await browser.waitUntil(async () => (await live.isDisplayed()) && (await live.getText()) === "live: DEMO HR strap", {
    timeout: 20_000,
    timeoutMsg: "no live indicator for the DEMO strap",
  });
  const first = await heartRate();
  assert.match(first, /^\d+$/, `a heart rate is shown: ${first}`);
  // The recording's rate varies beat to beat: within a few seconds the tile shows another.
  const seen = new Set([first]);
  await browser.waitUntil(
    async () => {
      seen.add(await heartRate());
      return seen.size > 1;
    },
    { timeout: 20_000, interval: 250, timeoutMsg: `the heart rate stayed at ${first}` },
  );
  // The screen was refreshed in place: still this patient, still ready.
  assert.equal(await (await browser.$("#view-patient")).getAttribute("data-patient-id"), id);
  await screenshot(browser, "13-patient-live", { selector: "#patient-live", text: "live: DEMO HR strap" });
});

test("the Devices screen shows the DEMO strap connected, with its battery", async () => {
  await openView(browser, "devices");
  const row = await browser.$(`#devices-table tr[data-address="${STRAP}"]`);
  await row.waitForExist({ timeout: 10_000, timeoutMsg: "the DEMO strap is not listed" });
  await browser.waitUntil(async () => (await (await row.$("[data-field='link']")).getAttribute("data-state")) === "connected", {
    timeout: 15_000,
    timeoutMsg: "the DEMO strap is not shown connected",
  });
  assert.match(await (await row.$("[data-field='link']")).getText(), /^connected/);
  await browser.waitUntil(async () => (await (await row.$("[data-field='battery']")).getText()) === "95 %", {
    timeout: 10_000,
    timeoutMsg: "the battery is not 95 %",
  });
  assert.equal(await (await row.$("th")).getText(), "DEMO HR strap");
  assert.equal(await (await row.$("[data-field='kind']")).getText(), "Heart rate monitor");
  assert.match(await (await row.$("[data-field='patient']")).getText(), /DEMO-0001/);
  assert.match(await (await row.$("[data-field='counts']")).getText(), /\d+ stored/);
  // Without Bluetooth on this machine a scan answers in words, not a crash.
  await (await browser.$("#devices-scan")).click();
  const note = await browser.$("#devices-scan-message");
  await browser.waitUntil(async () => (await note.getAttribute("class")).includes("message-error") || /found/.test(await note.getText()), {
    timeout: 20_000,
    timeoutMsg: "the scan gave no answer",
  });
  assert.ok((await note.getText()).length > 10, await note.getText());
  await screenshot(browser, "13-devices", { selector: `#devices-table tr[data-address="${STRAP}"] [data-field='battery']`, text: "95 %" });
});
