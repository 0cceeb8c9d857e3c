// The import screen: a file's report (accepted, duplicates, rejected with reasons) equals what
// `vigil import --dry-run` said about the same file.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openApp, openView, screenshot, seeded } from "./session.mjs";

const dry = seeded("import-dry.json");
let browser;

before(async () => {
  browser = await openApp("import");
});

after(async () => {
  await browser?.deleteSession();
});

test("importing a file shows its report", async () => {
  await openView(browser, "import");
  await (await browser.$("textarea#import-paths")).setValue(`${process.env.VIGIL_E2E_WORK}/vitals.csv`);
  await (await browser.$("button#import-start")).click();
  const section = await browser.$("#import-report section[data-file]");
  await section.waitForExist({ timeout: 30_000 });
  const field = async (name) => (await section.$(`[data-field="${name}"]`)).getText();
  const number = async (name) => Number((await field(name)).replaceAll(",", "").match(/\d+/)?.[0]);
  assert.equal(await number("accepted"), dry.accepted);
  assert.equal(await number("added"), dry.accepted - dry.duplicates);
  assert.equal(await number("rejected_total"), dry.rejected_total);
  assert.ok(dry.rejected_total > 0, "the file has bad lines");
  const text = await section.getText();
  for (const r of dry.rejected) assert.ok(text.includes(r.reason), `reason shown: ${r.reason}`);
  await screenshot(browser, "05-import", { selector: '#import-report section[data-file] [data-field="accepted"]' });
});
