// The worklist: every patient, highest risk first, searchable; a row opens the patient with
// the charts, and the range buttons redraw them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApp, readyView, screenshot, seeded } from "./session.mjs";

const cli = seeded("worklist.json");
/** `vigil patient view MRN --json`, written by scripts/e2e.sh. */
const patientJson = (mrn) => seeded(`patient-${mrn}.json`);
let browser;

before(async () => {
  browser = await openApp("worklist");
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
  const ids = [];
  for (const row of rows) {
    scores.push(Number(await row.getAttribute("data-risk-score")));
    ids.push(await row.getAttribute("data-patient-id"));
  }
  for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1] >= scores[i], `row ${i}: ${scores}`);
  // The order is the backend's, decided in one place: exactly `vigil worklist --json`'s.
  assert.deepEqual(ids, cli.rows.map((r) => r.patient_id));
  assert.ok(scores[0] > scores[scores.length - 1], "the demo has risk to sort");
  // The top row's name, as the CLI lists it, is drawn before the picture is taken.
  await screenshot(browser, "02-worklist", { selector: "#worklist tr[data-patient-id] th.name", text: cli.rows[0].name });

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
  const expected = patientJson(cli.rows[0].mrn);
  assert.deepEqual(
    await findingSpecialties(),
    expected.assessment.findings.map((f) => f.specialty),
    "the assessment's findings, in the CLI's order",
  );
  await agreesWithCli(cli.rows[0].mrn);
  await screenshot(browser, "03-patient", { selector: "#patient-name", text: cli.rows[0].name });

  await (await browser.$('button[data-range="7d"]')).click();
  await browser.waitUntil(async () => (await (await browser.$('button[data-range="7d"]')).getAttribute("aria-pressed")) === "true");
  await chartsReady(day);
  await browser.execute(() => document.querySelector("#view-patient figure[data-chart]")?.scrollIntoView());
  await screenshot(browser, "03-patient-charts-7d", { selector: 'figure[data-chart="heart_rate"][data-state="ready"]' });
});

test("a fluid-gain patient shows the CLI's weight flags, NEWS2, vitals and HRV", async () => {
  // DEMO-0007 gains weight (the demo's fluid-gain profile): its weight flags are not empty.
  const expected = patientJson("DEMO-0007");
  assert.ok(expected.weight.flags.length > 0, "the demo's fluid-gain patient has weight flags");
  await browser.execute((id) => {
    window.location.hash = `#/patient/${encodeURIComponent(id)}`;
  }, expected.patient_id);
  const view = await readyView(browser, "patient");
  await browser.waitUntil(async () => (await view.getAttribute("data-patient-id")) === expected.patient_id, {
    timeout: 10_000,
    timeoutMsg: "the fluid-gain patient's screen",
  });
  await readyView(browser, "patient");
  await agreesWithCli("DEMO-0007");
});

async function findingSpecialties() {
  return browser.execute(() => [...document.querySelectorAll("#findings li[data-specialty]")].map((li) => li.dataset.specialty));
}

/** What the patient screen shows of vitals, NEWS2, HRV and weight, as text. */
async function screenFacts() {
  return browser.execute(() => {
    const text = (el) => (el ? el.textContent.trim() : null);
    const tiles = {};
    for (const t of document.querySelectorAll("#view-patient .tile[data-vital]")) {
      tiles[t.dataset.vital] = text(t.querySelector(".tile-value")?.firstChild);
    }
    const facts = (id) =>
      Object.fromEntries([...document.querySelectorAll(`#${id} dl.facts dt`)].map((dt) => [text(dt), text(dt.nextElementSibling)]));
    return {
      tiles,
      news2: text(document.querySelector("#news2-panel .news2-head .big")),
      scores: [...document.querySelectorAll("#news2-panel tbody tr .score")].map(text),
      hrv: facts("hrv-panel"),
      weight: facts("weight-panel"),
      flags: [...document.querySelectorAll("#weight-panel ul.flags li")].map((li) => text(li).replace(/^Flag:\s*/, "")),
    };
  });
}

/**
 * The open patient screen shows what the CLI reported of `mrn`: every vital, NEWS2 and its
 * parameters' scores, HRV and the weight with its flags (`vigil patient view --json`), and the
 * same NEWS2 and HRV as `vigil analyze news2|hrv --patient` compute from the stored data.
 */
async function agreesWithCli(mrn) {
  const p = patientJson(mrn);
  const shown = await screenFacts();
  const latest = Object.fromEntries(p.latest.map((r) => [r.kind, r.value]));
  const decimals = { heart_rate: 0, spo2: 0, respiratory_rate: 0, body_temperature: 1, body_weight: 1 };
  for (const [kind, d] of Object.entries(decimals)) {
    assert.equal(shown.tiles[kind], latest[kind] == null ? "—" : latest[kind].toFixed(d), `${mrn} ${kind}`);
  }
  assert.equal(shown.tiles.bp, `${latest.bp_systolic.toFixed(0)}/${latest.bp_diastolic.toFixed(0)}`, `${mrn} blood pressure`);

  assert.ok(p.news2, `${mrn} has NEWS2`);
  assert.equal(shown.news2, String(p.news2.aggregate), `${mrn} NEWS2`);
  assert.deepEqual(shown.scores, p.news2.parameters.map((x) => String(x.score)), `${mrn} NEWS2 parameters`);
  const news2 = seeded(`news2-${mrn}.json`);
  assert.equal(shown.news2, String(news2.score.aggregate), `${mrn} NEWS2 as vigil analyze news2 scores it`);

  assert.ok(p.hrv, `${mrn} has HRV`);
  assert.equal(shown.hrv.SDNN, `${p.hrv.sdnn_ms.toFixed(1)} ms`, `${mrn} SDNN`);
  assert.equal(shown.hrv.RMSSD, `${p.hrv.rmssd_ms.toFixed(1)} ms`, `${mrn} RMSSD`);
  assert.equal(shown.hrv.pNN50, `${p.hrv.pnn50.toFixed(1)} %`, `${mrn} pNN50`);
  assert.equal(shown.hrv["Mean HR"], `${p.hrv.mean_hr.toFixed(0)} /min`, `${mrn} mean HR`);
  assert.match(shown.hrv.Beats, new RegExp(`^${p.hrv.beats} over `), `${mrn} beats`);
  const hrv = seeded(`hrv-${mrn}.json`);
  assert.equal(shown.hrv.SDNN, `${hrv.time_domain.sdnn_ms.toFixed(1)} ms`, `${mrn} SDNN as vigil analyze hrv computes it`);
  assert.equal(shown.hrv.RMSSD, `${hrv.time_domain.rmssd_ms.toFixed(1)} ms`, `${mrn} RMSSD as vigil analyze hrv computes it`);

  assert.ok(p.weight, `${mrn} has weights`);
  assert.equal(shown.weight.Latest, `${p.weight.latest_kg.toFixed(1)} kg`, `${mrn} latest weight`);
  assert.equal(shown.weight.Weights, String(p.weight.weights), `${mrn} weights`);
  assert.deepEqual(shown.flags, p.weight.flags, `${mrn} weight flags`);
}
