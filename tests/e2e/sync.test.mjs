// The status bar and the window's background sync (issue 14): a fresh store says "Not
// enrolled" already on its first-run screen; and a window enrolled with a real clinic server
// (the real `vigil-server` on the throwaway PostgreSQL that scripts/test.sh starts) shows it
// online, shows a patient imported by the CLI on another workstation's store once its own
// background pass pulled them, without a reload, and says it is offline once the server is gone.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, test } from "node:test";
import { DEMO_PASSWORD, cli, cliLogin, openApp, readyView, screenshot } from "./session.mjs";

const app = process.env.VIGIL_E2E_APP;
const serverBinary = app ? join(dirname(app), "vigil-server") : "";
const cluster = process.env.VIGIL_TEST_DATABASE_URL;
const noClinic =
  !cluster || !existsSync(serverBinary)
    ? "needs VIGIL_TEST_DATABASE_URL and vigil-server beside vigil (scripts/test.sh starts and builds them)"
    : false;

let browser = null;
let server = null;

after(async () => {
  await browser?.deleteSession();
  server?.kill("SIGKILL");
});

const barText = async (b) => (await b.$("#sync-bar")).getText();

test("a fresh store's status bar says Not enrolled, already on the first-run screen", async () => {
  const fresh = await openApp("sync_fresh", { account: null, empty: true });
  try {
    await readyView(fresh, "first-run");
    const bar = await fresh.$("#sync-bar");
    assert.equal(await bar.getAttribute("role"), "status");
    await fresh.waitUntil(async () => (await barText(fresh)) === "Not enrolled", {
      timeout: 20_000,
      timeoutMsg: "the status bar never said Not enrolled",
    });
    assert.equal(await bar.isDisplayed(), true);
  } finally {
    // tauri-driver holds one session at a time.
    await fresh.deleteSession();
  }
});

/** `vigil-server ARGS` against `database`; its JSON answer. */
function clinicAdmin(database, ...args) {
  return JSON.parse(execFileSync(serverBinary, [...args, "--json"], { env: { ...process.env, DATABASE_URL: database } }).toString());
}

/** A new database on the throwaway cluster, and a server on it: its https URL. */
async function startServer() {
  const name = `e2e_sync_${process.pid}_${Date.now()}`;
  execFileSync("psql", [cluster, "-qc", `CREATE DATABASE ${name}`]);
  const database = `${cluster.slice(0, cluster.lastIndexOf("/"))}/${name}`;
  const dir = join(process.env.VIGIL_E2E_WORK, "clinic-server");
  server = spawn(serverBinary, ["serve", "--listen", "127.0.0.1:0", "--data-dir", dir], {
    env: { ...process.env, DATABASE_URL: database, VIGIL_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // `listening on ADDR fingerprint F`
  const line = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: server.stdout });
    lines.once("line", resolve);
    server.once("exit", (code) => reject(new Error(`vigil-server exited (${code}) before listening`)));
  });
  const addr = line.split(/\s+/)[2];
  assert.ok(addr, `the server said: ${line}`);
  return { url: `https://${addr}`, database };
}

test("an enrolled window shows it online and pulls a patient imported on another workstation", { skip: noClinic }, async () => {
  const { url, database } = await startServer();
  const clinic = clinicAdmin(database, "clinic", "create", "North").id;
  const code = () => clinicAdmin(database, "enroll-code", clinic).code;

  // This window's store (a copy of the seeded demo store), enrolled by IT on the command line.
  cliLogin("sync", "it");
  cli("sync", "sync", "enroll", "--server", url, "--code", code());
  cli("sync", "logout");
  browser = await openApp("sync");
  await browser.waitUntil(async () => /^Online · last sync \d\d:\d\d · \d+ pending/.test(await barText(browser)), {
    timeout: 60_000,
    timeoutMsg: "the status bar never said the window synced",
  });
  const worklist = await readyView(browser, "worklist");
  assert.equal((await worklist.getText()).includes("SYNC-0001"), false);

  // Another workstation: its own store, enrolled in the same clinic; a clinician registers a
  // patient (with consent to clinic sync), imports their readings, and syncs.
  const other = join(process.env.VIGIL_E2E_WORK, "stores", "sync-other");
  const vigil = (...args) => execFileSync(app, ["--data-dir", other, ...args], { env: process.env });
  const login = (account) => execFileSync(app, ["--data-dir", other, "login", account], { env: process.env, input: `${DEMO_PASSWORD}\n` });
  vigil("demo", "--json");
  login("it");
  vigil("sync", "enroll", "--server", url, "--code", code());
  login("clinician");
  vigil("patient", "add", "--mrn", "SYNC-0001", "--name", "Sync Example", "--consent", "monitoring,clinic-sync");
  const csv = join(process.env.VIGIL_E2E_WORK, "sync-other.csv");
  const end = Date.now() - 60_000;
  const lines = ["time,heart_rate,spo2"];
  for (let i = 0; i < 30; i++) {
    lines.push(`${new Date(end - (30 - i) * 60_000).toISOString().replace(/\.\d+Z$/, "Z")},${70 + i},${97}`);
  }
  writeFileSync(csv, lines.join("\n") + "\n");
  vigil("import", csv, "--patient", "SYNC-0001", "--json");
  const pushed = JSON.parse(vigil("sync", "now", "--json").toString());
  assert.ok(pushed.pushed_rows >= 60, `the other workstation pushed ${pushed.pushed_rows} rows`);
  vigil("logout");

  // The window's next background pass (every 30 s) pulls the patient; the open worklist
  // reads again by itself.
  await browser.execute(() => document.getElementById("view-worklist").setAttribute("data-e2e-mark", "kept"));
  await browser.waitUntil(async () => (await worklist.getText()).includes("SYNC-0001"), {
    timeout: 75_000,
    timeoutMsg: "the patient from the other workstation never reached the window's worklist",
  });
  assert.equal(await worklist.getAttribute("data-e2e-mark"), "kept", "the worklist was not reloaded by navigation");
  assert.match(await barText(browser), /^Online · last sync \d\d:\d\d · \d+ pending/);
  await screenshot(browser, "14-sync-status-bar", { selector: "#sync-bar", text: "Online" });

  // The server gone: the next pass fails, and the bar says since when, and that it retries.
  server.kill("SIGKILL");
  await browser.waitUntil(async () => /^Offline since \d\d:\d\d · \d+ pending · retrying$/.test(await barText(browser)), {
    timeout: 60_000,
    timeoutMsg: "the status bar never said the window was offline",
  });
  assert.match(await (await browser.$("#sync-bar")).getAttribute("title"), /unreachable/);
});
