// Settings and status: the store's state (data directory, encryption, schema version, counts),
// with the DEMO banner for the demo store.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApp, openView, screenshot, seeded, storeFor } from "./session.mjs";

const seed = seeded("seed.json");
let browser;

before(async () => {
  browser = await openApp("status");
});

after(async () => {
  await browser?.deleteSession();
});

test("settings show the encrypted demo store and its counts", async () => {
  await openView(browser, "settings");
  const encryption = await browser.$("#status-encryption");
  await encryption.waitForExist({ timeout: 20_000 });
  assert.match(await encryption.getText(), /^On \(SQLCipher, 256-bit key in key file /);

  const text = async (id) => (await browser.$(`#status-${id}`)).getText();
  // This file's own copy of the seeded store (session.mjs), with the seed's counts.
  assert.equal(await text("data-dir"), storeFor("status"));
  assert.equal(await text("schema-version"), String(seed.status.schema_version));
  assert.equal(await text("patients"), String(seed.status.patients));
  const observations = Number((await text("observations")).replaceAll(",", ""));
  assert.ok(observations >= seed.status.observations, `${observations} >= ${seed.status.observations}`);

  assert.equal(await (await browser.$("#demo-banner")).isDisplayed(), true);
  assert.equal(await (await browser.$("#demo-badge")).getText(), "DEMO");
  assert.equal(await (await browser.$("#store-error")).isDisplayed(), false);
  await screenshot(browser, "07-settings", { selector: "#status-patients", text: String(seed.status.patients) });
});
