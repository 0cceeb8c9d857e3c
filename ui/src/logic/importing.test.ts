import { describe, expect, it } from "vitest";
import { progress, report } from "./fixtures";
import { appendPaths, failureText, parsePaths, progressFraction, progressLabel, rateLabel, totals, totalsLabel } from "./importing";

describe("paths", () => {
  it("takes one path a line, trimmed, unquoted, without blanks or repeats", () => {
    expect(parsePaths(' /a/b.csv \r\n\n"/c d/e.json"\n/a/b.csv\n\'/f.zip\'\n')).toEqual(["/a/b.csv", "/c d/e.json", "/f.zip"]);
    expect(parsePaths("   \n")).toEqual([]);
  });
  it("keeps a quote inside a path", () => {
    expect(parsePaths(`/data/o'brien.csv`)).toEqual([`/data/o'brien.csv`]);
  });
  it("appends chosen files after the typed ones", () => {
    expect(appendPaths("/a.csv\n", ["/b.csv", "/a.csv"])).toBe("/a.csv\n/b.csv");
    expect(appendPaths("", ["/b.csv"])).toBe("/b.csv");
  });
});

describe("progress", () => {
  it("adds the share of the file in hand to the files done", () => {
    expect(progressFraction(progress({ file_index: 1, files: 4, bytes_read: 50, bytes_total: 100 }))).toBeCloseTo(0.375);
    expect(progressFraction(progress({ file_index: 0, files: 2, bytes_read: 0, bytes_total: 100 }))).toBe(0);
  });
  it("counts a 0-byte file as read, never NaN", () => {
    expect(progressFraction(progress({ file_index: 0, files: 2, bytes_read: 0, bytes_total: 0 }))).toBe(0.5);
    expect(progressFraction(progress({ file_index: 0, files: 1, bytes_read: null, bytes_total: null }))).toBe(1);
  });
  it("stays within 0..1 on odd input", () => {
    expect(progressFraction(progress({ file_index: 2, files: 3, bytes_read: 500, bytes_total: 100 }))).toBe(1);
    expect(progressFraction(progress({ files: 0 }))).toBe(0);
    expect(progressFraction(null)).toBe(0);
  });
  it("says which file of how many, bytes and records", () => {
    expect(progressLabel(progress({ file_index: 1, files: 3, file: "v.csv", bytes_read: 1536, bytes_total: 3072, records: 1200 }))).toBe(
      "File 2 of 3: v.csv — 1.5 KiB of 3.0 KiB, 1,200 records",
    );
  });
  it("gives a rate only once time has passed", () => {
    expect(rateLabel(12_000, 2_000)).toBe("6,000 records/s");
    expect(rateLabel(100, 0)).toBe("");
    expect(rateLabel(null, 1000)).toBe("");
  });
});

describe("failureText", () => {
  it("says once that nothing was stored", () => {
    expect(failureText("/x.csv: No such file or directory (os error 2)")).toBe(
      "Failed: /x.csv: No such file or directory (os error 2). Nothing from this file was stored.",
    );
    expect(failureText("empty.csv: the file is empty; nothing from this file was stored")).toBe(
      "Failed: empty.csv: the file is empty; nothing from this file was stored.",
    );
  });
});

describe("totals", () => {
  it("sums the files and counts failures and files not started", () => {
    const t = totals([
      report({ accepted: 10, added: 7, duplicates: 3, rejected_total: 2 }),
      report({ file: "/b", error: "not a CSV file" }),
    ]);
    expect(t).toEqual({ files: 2, failed: 1, accepted: 10, added: 7, duplicates: 3, rejected: 2 });
    expect(totalsLabel(t, 3)).toBe(
      "2 of 3 files processed, 7 new records stored, 3 already stored, 2 rejected, 1 failed, 1 not started (cancelled).",
    );
  });
});
