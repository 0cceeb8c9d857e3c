// The window's figures (scripts/bench-ui.sh): start to an interactive worklist, switching
// patient and range until every chart is drawn, and idle memory, on the store `vigil bench ui`
// seeded. Timings are taken inside the page (performance.now) where they can be, so WebDriver's
// own round trips are not counted; the start figure is taken from outside, since it includes
// launching the app.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { openApp } from "../session.mjs";

const CHARTS = 6;
const stats = (xs) => {
  if (xs.length === 0) return "no measurement";
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
const readyWall = Date.now();
const inPage = await browser.execute(() => performance.now());
// The app process's own start (from /proc), so WebDriver's session setup is not counted.
const sinceProcessStart = (() => {
  try {
    const pid = execFileSync("pgrep", ["-n", "-x", "vigil"], { encoding: "utf8" }).trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const hz = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
    // Both from boot, in 10 ms steps: /proc/uptime now minus the process's start.
    const uptimeMs = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000 - (Date.now() - readyWall);
    return uptimeMs - (ticks * 1000) / hz;
  } catch {
    return NaN;
  }
})();
const rows = await browser.$$("#worklist tr[data-patient-id]");
const ids = [];
for (const r of rows) ids.push(await r.getAttribute("data-patient-id"));
console.log(`worklist: ${ids.length} patients`);
console.log(
  `start to interactive worklist: ${sinceProcessStart.toFixed(0)} ms from the app process's start (target < 1500 ms); ` +
    `${inPage.toFixed(0)} ms of it in the page from navigation start; ${startMs.toFixed(0)} ms from asking WebDriver for a session`,
);

// In the page: act, then wait for every chart of `id` to be drawn again.
const measure = (action, arg, id) =>
  browser.executeAsync(
    (action, arg, id, charts, done) => {
      const t0 = performance.now();
      // Done when every chart is drawn and the heart-rate chart is not the one shown before
      // (its title names the range and the time span).
      const title = () => document.querySelector('figure[data-chart="heart_rate"] svg title')?.textContent ?? "";
      const before = action === "hash" ? null : title();
      const ready = () => {
        const view = document.querySelector("#view-patient");
        const figs = [...document.querySelectorAll("figure[data-chart]")];
        return view && view.dataset.patientId === id && figs.length === charts &&
          figs.every((f) => f.dataset.state === "ready" && f.querySelector("svg")) &&
          (before === null ? figs.every((f) => f.dataset.patient === undefined || f.dataset.patient === id) : title() !== before);
      };
      if (action === "hash") location.hash = arg;
      else document.querySelector(`button[data-range="${arg}"]`).click();
      // setTimeout, not requestAnimationFrame: WebKit may not run frames for a window under Xvfb.
      const tick = () => (ready() ? done(performance.now() - t0) : setTimeout(tick, 4));
      setTimeout(tick, 0);
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

const range = { "1h": [], "24h": [], "7d": [], "30d": [] };
const id = ids.slice(0, 20).at(-1); // the patient on screen
for (let round = 0; round < 5; round++) {
  for (const r of Object.keys(range)) {
    const ms = await measure("range", r, id);
    if (ms >= 0) range[r].push(ms);
  }
}
console.log(`switch range to all six charts drawn: ${stats(Object.values(range).flat())} (target < 200 ms)`);
for (const [r, xs] of Object.entries(range)) console.log(`  to ${r}: ${stats(xs)}`);

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
