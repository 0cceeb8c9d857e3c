// The window watches by itself (issue 11): a deteriorating file imported by the CLI while the
// window is open makes new alerts appear in the inbox, the badge count rise and the worklist
// row count them, with no reload (the same DOM stays in place); the critical banner stays; and
// the window's own import lists the alerts it raised.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cli, cliLogin, openApp, openView, readyView, screenshot } from "./session.mjs";

let browser;

before(async () => {
  browser = await openApp("live");
  // The CLI acts as a clinician too, in its own session on this store.
  cliLogin("live");
  // Patients to import deteriorating vitals for (registered on this file's store only).
  vigil("patient", "add", "--mrn", "LIVE-0001", "--name", "Live Example", "--consent", "monitoring");
  vigil("patient", "add", "--mrn", "LIVE-0002", "--name", "Live Second", "--consent", "monitoring");
  vigil("patient", "add", "--mrn", "LIVE-0003", "--name", "Live Third", "--consent", "monitoring");
});

after(async () => {
  await browser?.deleteSession();
});

/** 40 minutes of 1 Hz vitals sliding into hypoxia and tachycardia, ending two minutes ago. */
function deteriorating(name) {
  const end = Date.now() - 2 * 60_000;
  const seconds = 40 * 60;
  const lines = ["time,heart_rate,spo2,respiratory_rate,body_temperature"];
  for (let i = 0; i < seconds; i++) {
    const f = i / seconds;
    const t = new Date(end - (seconds - i) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    lines.push(`${t},${Math.round(78 + 52 * f)},${Math.round(97 - 13 * f)},${Math.round(15 + 16 * f)},${(36.9 + 1.9 * f).toFixed(1)}`);
  }
  const path = join(process.env.VIGIL_E2E_WORK, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

/** `vigil ARGS` on this file's store, while the window has it open. */
function vigil(...args) {
  return cli("live", ...args);
}

const badge = async () => {
  const el = await browser.$("#alerts-badge");
  return (await el.isDisplayed()) ? Number(await el.getText()) : 0;
};

test("a CLI import while the window is open shows its alerts in the inbox, the badge and the worklist without a reload", async () => {
  const inbox = await openView(browser, "alerts");
  const before = (await browser.$$("#alert-list li.alert-item")).length;
  const badgeBefore = await badge();
  // Marks this DOM: a reload or a re-navigation would replace it.
  await browser.execute(() => document.getElementById("view-alerts").setAttribute("data-e2e-mark", "kept"));

  vigil("import", deteriorating("live-1.csv"), "--patient", "LIVE-0001", "--json");

  await browser.waitUntil(async () => (await (await browser.$("#alert-list")).getText()).includes("Live Example"), {
    timeout: 30_000,
    timeoutMsg: "no new alert appeared in the inbox",
  });
  assert.ok((await browser.$$("#alert-list li.alert-item")).length > before || before >= 100);
  assert.equal(await inbox.getAttribute("data-e2e-mark"), "kept", "the inbox was updated in place, not reloaded");
  await browser.waitUntil(async () => (await badge()) > badgeBefore, { timeout: 10_000, timeoutMsg: "the badge did not rise" });

  // The critical banner holds the new alerts until they are acknowledged.
  const banner = await browser.$("#critical-banner");
  await banner.waitForDisplayed({ timeout: 10_000 });
  assert.ok((await banner.getText()).includes("Live Example"), await banner.getText());
  await screenshot(browser, "08-critical-banner");
});

test("the worklist counts a new patient's alerts as they are raised, without a reload", async () => {
  const worklist = await openView(browser, "worklist");
  await browser.execute(() => document.getElementById("view-worklist").setAttribute("data-e2e-mark", "kept"));
  const badgeBefore = await badge();
  vigil("import", deteriorating("live-2.csv"), "--patient", "LIVE-0002", "--json");
  await browser.waitUntil(
    async () => {
      const open = await browser.execute(() => {
        const row = [...document.querySelectorAll("#worklist tr[data-patient-id]")].find((r) => r.textContent.includes("LIVE-0002"));
        return row ? Number(row.querySelector("td[data-open-alerts]").dataset.openAlerts) : -1;
      });
      return open > 0;
    },
    { timeout: 30_000, timeoutMsg: "the worklist row did not count the new alerts" },
  );
  assert.equal(await worklist.getAttribute("data-e2e-mark"), "kept", "the worklist was updated in place");
  assert.ok((await badge()) > badgeBefore, "the badge rose");
  await screenshot(browser, "08-worklist-live");
});

test("the window's own import lists the alerts it raised", async () => {
  await openView(browser, "import");
  await (await browser.$("textarea#import-paths")).setValue(deteriorating("live-3.csv"));
  await (await browser.$("#import-patient")).setValue("LIVE-0003");
  await (await browser.$("button#import-start")).click();
  const raised = await browser.$("#import-report section[data-file] [data-field='alerts']");
  await raised.waitForExist({ timeout: 60_000 });
  assert.ok(Number(await raised.getAttribute("data-count")) > 0, await raised.getText());
  assert.match(await raised.getText(), /critical/);
  await readyView(browser, "import");
});
