// The alerts inbox: the tabs' totals and the severity filter agree with `vigil alerts list`;
// acknowledging moves an alert from New to Acknowledged; resolving needs a note (the backend's
// rule, shown in the dialog) and resolves a new alert in one step.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApp, openView, screenshot, seeded } from "./session.mjs";

/** `vigil alerts list --all --json` on the seeded store. */
const cli = seeded("alerts.json");

let browser;

before(async () => {
  browser = await openApp("alerts");
});

after(async () => {
  await browser?.deleteSession();
});

const ids = async () => {
  const out = [];
  for (const li of await browser.$$("#alert-list li[data-alert-id]")) out.push(await li.getAttribute("data-alert-id"));
  return out;
};

const RANK = ["low", "moderate", "high", "critical"];

const total = async () => Number(await (await browser.$("#alert-total")).getAttribute("data-total"));

async function ready() {
  await browser.waitUntil(async () => (await (await browser.$("#view-alerts")).getAttribute("data-state")) === "ready", {
    timeout: 10_000,
    timeoutMsg: "the inbox reloaded",
  });
}

test("the totals and the severity filter agree with the CLI", async () => {
  await openView(browser, "alerts");
  await (await browser.$('button[data-status="resolved"]')).click();
  await ready();
  // This file's store copy: the seeded alerts, none resolved yet.
  assert.equal(await total(), cli.filter((a) => a.status === "resolved").length);
  for (const floor of ["high", "critical"]) {
    await (await browser.$("#alert-severity")).selectByAttribute("value", floor);
    await (await browser.$('button[data-status="new"]')).click();
    await ready();
    const expected = cli.filter((a) => a.status === "new" && RANK.indexOf(a.risk_level) >= RANK.indexOf(floor));
    assert.equal(await total(), expected.length, `new alerts at ${floor} and above`);
    const levels = [];
    for (const li of await browser.$$("#alert-list li[data-alert-id]")) levels.push(await li.getAttribute("data-risk-level"));
    assert.equal(levels.length, Math.min(expected.length, 100));
    assert.ok(levels.every((l) => RANK.indexOf(l) >= RANK.indexOf(floor)), `${floor}: ${levels}`);
  }
  await (await browser.$("#alert-severity")).selectByAttribute("value", "");
  await ready();
});

test("acknowledging an alert moves it to the acknowledged tab", async () => {
  await openView(browser, "alerts");
  await (await browser.$('button[data-status="new"]')).click();
  await browser.waitUntil(async () => (await ids()).length > 0, { timeout: 10_000, timeoutMsg: "the seeded alerts" });
  const before = await ids();
  await screenshot(browser, "04-alerts", { selector: `#alert-list li[data-alert-id="${before[0]}"]` });

  const first = await browser.$(`#alert-list li[data-alert-id="${before[0]}"]`);
  await (await first.$('button[data-action="acknowledge"]')).click();
  const dialog = await browser.$("dialog#alert-note-dialog");
  await dialog.waitForDisplayed({ timeout: 5_000 });
  await (await browser.$("textarea#alert-note")).setValue("Seen at the workstation; ward informed.");
  await (await browser.$("button#alert-note-confirm")).click();
  await browser.waitUntil(async () => !(await ids()).includes(before[0]), {
    timeout: 10_000,
    timeoutMsg: "the alert left the New tab",
  });
  assert.equal((await ids()).length, before.length - 1);

  await (await browser.$('button[data-status="acknowledged"]')).click();
  await browser.waitUntil(async () => (await ids()).includes(before[0]), {
    timeout: 10_000,
    timeoutMsg: "the alert is in the Acknowledged tab",
  });
  const moved = await browser.$(`#alert-list li[data-alert-id="${before[0]}"]`);
  assert.match(await moved.getText(), /ward informed/);
  await screenshot(browser, "04-alerts-acknowledged", {
    selector: `#alert-list li[data-alert-id="${before[0]}"]`,
    text: "ward informed",
  });
});

test("resolving needs a note and resolves a new alert in one step", async () => {
  await (await browser.$('button[data-status="new"]')).click();
  await ready();
  const before = await ids();
  assert.ok(before.length > 0, "a new alert to resolve");
  const item = await browser.$(`#alert-list li[data-alert-id="${before[0]}"]`);
  await (await item.$('button[data-action="resolve"]')).click();
  const dialog = await browser.$("dialog#alert-note-dialog");
  await dialog.waitForDisplayed({ timeout: 5_000 });
  await (await browser.$("textarea#alert-note")).setValue("   ");
  await (await browser.$("button#alert-note-confirm")).click();
  await browser.waitUntil(async () => /note is required/.test(await dialog.getText()), {
    timeout: 10_000,
    timeoutMsg: "the backend's refusal shown in the dialog",
  });
  assert.ok(await dialog.isDisplayed(), "the dialog stays open");
  await (await browser.$("textarea#alert-note")).setValue("Oxygen started; SpO2 back to 95 %.");
  await (await browser.$("button#alert-note-confirm")).click();
  await browser.waitUntil(async () => !(await ids()).includes(before[0]), {
    timeout: 10_000,
    timeoutMsg: "the alert left the New tab",
  });
  await (await browser.$('button[data-status="resolved"]')).click();
  await ready();
  const resolved = await browser.$(`#alert-list li[data-alert-id="${before[0]}"]`);
  const text = await resolved.getText();
  assert.match(text, /Acknowledged by .*SpO2 back to 95 %/);
  assert.match(text, /Resolved by .*SpO2 back to 95 %/);
});
