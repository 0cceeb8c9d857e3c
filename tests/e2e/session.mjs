// One WebDriver session on the real app, started by tauri-driver (scripts/e2e.sh starts it).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { remote } from "webdriverio";

export async function openApp() {
  return remote({
    hostname: "127.0.0.1",
    port: 4444,
    logLevel: "warn",
    capabilities: {
      "tauri:options": { application: process.env.VIGIL_E2E_APP },
    },
  });
}

/** Saves a screenshot of the window as <name>.png in the screenshot folder. */
export async function screenshot(browser, name) {
  const dir = process.env.VIGIL_E2E_SCREENSHOTS ?? "screenshots";
  mkdirSync(dir, { recursive: true });
  await browser.saveScreenshot(join(dir, `${name}.png`));
}
