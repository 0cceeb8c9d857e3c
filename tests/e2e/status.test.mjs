// The first window shows the store's state: data directory, encryption, schema version and
// counts, with the DEMO banner for the demo store.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { openApp, screenshot } from "./session.mjs";

// What `vigil demo --json` reported when scripts/e2e.sh seeded the store.
const seeded = JSON.parse(readFileSync(`${process.env.VIGIL_E2E_WORK}/seed.json`, "utf8"));
let browser;

before(async () => {
  browser = await openApp();
});

after(async () => {
  await browser?.deleteSession();
});

test("the first window shows the encrypted demo store and its counts", async () => {
  const encryption = await browser.$("#status-encryption");
  await encryption.waitForExist({ timeout: 20_000 });
  assert.match(await encryption.getText(), /^On \(SQLCipher, 256-bit key in key file /);

  const text = async (id) => (await browser.$(`#status-${id}`)).getText();
  assert.equal(await text("data-dir"), seeded.status.data_dir);
  assert.equal(await text("schema-version"), String(seeded.status.schema_version));
  assert.equal(await text("patients"), String(seeded.status.patients));
  const observations = Number((await text("observations")).replaceAll(",", ""));
  assert.equal(observations, seeded.status.observations);
  assert.ok(observations > 0);

  assert.equal(await (await browser.$("#demo-banner")).isDisplayed(), true);
  assert.equal(await (await browser.$("#demo-badge")).getText(), "DEMO");
  assert.equal(await (await browser.$("#store-error")).isDisplayed(), false);
  await screenshot(browser, "01-store-status");
});
