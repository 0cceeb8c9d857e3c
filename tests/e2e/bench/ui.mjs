// The window's figures (scripts/bench-ui.sh): start to an interactive worklist, switching
// patient and range until every chart is drawn, and idle memory, on the store `vigil bench ui`
// seeded. Timings are taken inside the page (performance.now) where they can be, so WebDriver's
// own round trips are not counted; the start figure is taken from outside, since it includes
// launching the app.
import { execFileSync } from "node:child_process";
import { openApp } from "../session.mjs";

const CHARTS = 6;
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return `p50 ${at(50).toFixed(0)} ms, p95 ${at(95).toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms (n=${s.length})`;
};

const started = performance.now();
const browser = await openApp();
await browser.waitUntil(async () => (await browser.$$("#worklist tr[data-patient-id]")).length > 0, {
  timeout: 60_000,
  interval: 10,
});
const startMs = performance.now() - started;
const inPage = await browser.execute(() => performance.now());
const rows = await browser.$$("#worklist tr[data-patient-id]");
const ids = [];
for (const r of rows) ids.push(await r.getAttribute("data-patient-id"));
console.log(`worklist: ${ids.length} patients`);
console.log(`start to interactive worklist: ${startMs.toFixed(0)} ms from launching the app (WebDriver session included); ${inPage.toFixed(0)} ms in the page from navigation start (target < 1500 ms)`);

// In the page: act, then wait for every chart of `id` to be drawn again.
const measure = (action, arg, id) =>
  browser.executeAsync(
    (action, arg, id, charts, done) => {
      const t0 = performance.now();
      let sawLoading = false;
      const ready = () => {
        const view = document.querySelector("#view-patient");
        const figs = [...document.querySelectorAll("figure[data-chart]")];
        if (figs.some((f) => f.dataset.state === "loading")) sawLoading = true;
        return view && view.dataset.patientId === id && figs.length === charts && sawLoading &&
          figs.every((f) => f.dataset.state === "ready" && f.querySelector("svg"));
      };
      if (action === "hash") location.hash = arg;
      else document.querySelector(`button[data-range="${arg}"]`).click();
      const tick = () => (ready() ? done(performance.now() - t0) : requestAnimationFrame(tick));
      requestAnimationFrame(tick);
      setTimeout(() => done(-1), 20_000);
    },
    action,
    arg,
    id,
    CHARTS,
  );

const patient = [];
for (let round = 0; round < 2; round++) {
  for (const id of ids.slice(0, 20)) {
    const ms = await measure("hash", `#/patient/${id}`, id);
    if (ms < 0) throw new Error(`patient ${id}: charts never ready`);
    patient.push(ms);
  }
}
console.log(`switch patient to all six charts drawn (24 h, 1 Hz patients): ${stats(patient)} (target < 200 ms)`);

const range = [];
const id = ids[0];
for (let round = 0; round < 5; round++) {
  for (const r of ["1h", "24h", "7d", "30d"]) {
    const ms = await measure("range", r, id);
    if (ms >= 0) range.push(ms);
  }
}
console.log(`switch range to all six charts drawn: ${stats(range)} (target < 200 ms)`);

await browser.execute(() => {
  location.hash = "#/worklist";
});
await new Promise((r) => setTimeout(r, 10_000));
const rss = (name) => {
  try {
    return execFileSync("ps", ["-C", name, "-o", "rss="], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .reduce((a, b) => a + Number(b), 0);
  } catch {
    return 0;
  }
};
const parts = { vigil: rss("vigil"), WebKitWebProcess: rss("WebKitWebProces"), WebKitNetworkProcess: rss("WebKitNetworkP") };
const total = Object.values(parts).reduce((a, b) => a + b, 0);
console.log(
  `idle memory after 10 s on the worklist: ${(total / 1024).toFixed(0)} MiB RSS (${Object.entries(parts)
    .map(([k, v]) => `${k} ${(v / 1024).toFixed(0)}`)
    .join(", ")})`,
);
await browser.deleteSession();
