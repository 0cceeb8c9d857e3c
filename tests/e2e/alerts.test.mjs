// The alerts inbox: acknowledging an alert with a note moves it from New to Acknowledged.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApp, openView, screenshot } from "./session.mjs";

let browser;

before(async () => {
  browser = await openApp();
});

after(async () => {
  await browser?.deleteSession();
});

const ids = async () => {
  const out = [];
  for (const li of await browser.$$("#alert-list li[data-alert-id]")) out.push(await li.getAttribute("data-alert-id"));
  return out;
};

test("acknowledging an alert moves it to the acknowledged tab", async () => {
  await openView(browser, "alerts");
  await (await browser.$('button[data-status="new"]')).click();
  await browser.waitUntil(async () => (await ids()).length > 0, { timeout: 10_000, timeoutMsg: "the seeded alerts" });
  const before = await ids();
  await screenshot(browser, "04-alerts");

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
  await screenshot(browser, "04-alerts-acknowledged");
});
