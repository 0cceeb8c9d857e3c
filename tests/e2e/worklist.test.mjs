// The worklist: every patient, highest risk first, searchable; a row opens the patient with
// the charts, and the range buttons redraw them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApp, readyView, screenshot, seeded } from "./session.mjs";

const cli = seeded("worklist.json");
let browser;

before(async () => {
  browser = await openApp();
});

after(async () => {
  await browser?.deleteSession();
});

const CHARTS = ["heart_rate", "spo2", "respiratory_rate", "body_temperature", "blood_pressure", "weight"];

test("the worklist is sorted by risk and searchable", async () => {
  await readyView(browser, "worklist");
  const rows = await browser.$$("#worklist tr[data-patient-id]");
  assert.equal(rows.length, cli.rows.length);
  const scores = [];
  for (const row of rows) scores.push(Number(await row.getAttribute("data-risk-score")));
  for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1] >= scores[i], `row ${i}: ${scores}`);
  // The same patient leads as in `vigil worklist --json`.
  assert.equal(await rows[0].getAttribute("data-patient-id"), cli.rows[0].patient_id);
  assert.ok(scores[0] > scores[scores.length - 1], "the demo has risk to sort");
  await screenshot(browser, "02-worklist");

  const search = await browser.$("#worklist-search");
  await search.setValue("DEMO-0005");
  await browser.waitUntil(async () => (await browser.$$("#worklist tr[data-patient-id]")).length === 1, {
    timeout: 5_000,
    timeoutMsg: "search by MRN leaves one row",
  });
  // Escape in the search box clears it (the keyboard path).
  await search.click();
  await browser.keys(["Escape"]);
  await browser.waitUntil(async () => (await browser.$$("#worklist tr[data-patient-id]")).length === cli.rows.length, {
    timeout: 5_000,
    timeoutMsg: "Escape clears the search",
  });
});

async function chartsReady(titles) {
  await browser.waitUntil(
    async () => {
      for (const chart of CHARTS) {
        const fig = await browser.$(`figure[data-chart="${chart}"]`);
        if (!(await fig.isExisting()) || (await fig.getAttribute("data-state")) !== "ready") return false;
      }
      return true;
    },
    { timeout: 20_000, timeoutMsg: "charts not ready" },
  );
  const out = {};
  for (const chart of CHARTS) {
    const fig = await browser.$(`figure[data-chart="${chart}"]`);
    assert.equal(await fig.getAttribute("data-state"), "ready", chart);
    out[chart] = await browser.execute((c) => document.querySelector(`figure[data-chart="${c}"] svg title`)?.textContent ?? "", chart);
    assert.ok(out[chart].length > 0, `${chart} has an SVG with a title`);
    // The weight chart always spans at least 30 days (daily data), so 24 h and 7 d draw the same.
    if (titles && chart !== "weight") assert.notEqual(out[chart], titles[chart], `${chart} redrawn for the new range`);
  }
  return out;
}

test("a patient opens with its charts, and a range redraws them", async () => {
  const first = await browser.$("#worklist tr[data-patient-id]");
  const id = await first.getAttribute("data-patient-id");
  // The keyboard path: focus the top row, press Enter.
  await browser.execute((el) => el.focus(), first);
  await browser.keys(["Enter"]);
  const view = await readyView(browser, "patient");
  assert.equal(await view.getAttribute("data-patient-id"), id);
  assert.equal(await (await browser.$("#patient-name")).getText(), cli.rows[0].name);
  const day = await chartsReady(null);
  assert.equal(await (await browser.$('button[data-range="24h"]')).getAttribute("aria-pressed"), "true");
  assert.ok((await browser.$$("#findings li[data-specialty]")).length >= 3, "the assessment's findings");
  await (await browser.$("#hrv-panel")).waitForExist();
  await screenshot(browser, "03-patient");

  await (await browser.$('button[data-range="7d"]')).click();
  await browser.waitUntil(async () => (await (await browser.$('button[data-range="7d"]')).getAttribute("aria-pressed")) === "true");
  await chartsReady(day);
  await browser.execute(() => document.querySelector("#view-patient figure[data-chart]")?.scrollIntoView());
  await screenshot(browser, "03-patient-charts-7d");
});
