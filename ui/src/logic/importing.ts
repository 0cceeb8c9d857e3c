// The import screen's maths: paths typed or chosen, progress, rate, totals. Pure.
import type { ImportProgressView, ImportReportView } from "../bindings";
import { formatBytes, formatCount } from "../status";

/** One path a line; surrounding quotes (as file managers paste them) and blanks removed; no repeats. */
export function parsePaths(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    let path = line.trim();
    if (path.length >= 2 && /^(["']).*\1$/.test(path)) path = path.slice(1, -1).trim();
    if (path !== "" && !out.includes(path)) out.push(path);
  }
  return out;
}

/** The textarea's text with `chosen` paths added at the end (those already there are kept once). */
export function appendPaths(text: string, chosen: readonly string[]): string {
  return parsePaths([text, ...chosen].join("\n")).join("\n");
}

/**
 * The whole import's progress, 0..1: finished files plus the share of the file in hand. A file
 * of 0 bytes counts as read (nothing to wait for), never as NaN.
 */
export function progressFraction(p: ImportProgressView | null): number {
  if (!p || p.files <= 0) return 0;
  const total = p.bytes_total ?? 0;
  const read = p.bytes_read ?? 0;
  const inFile = total > 0 ? Math.min(1, Math.max(0, read / total)) : 1;
  return Math.min(1, Math.max(0, (p.file_index + inFile) / p.files));
}

/** "File 2 of 3: vitals.csv — 1.5 KiB of 3.0 KiB, 1,200 records". */
export function progressLabel(p: ImportProgressView): string {
  const bytes = `${formatBytes(p.bytes_read)} of ${formatBytes(p.bytes_total)}`;
  return `File ${p.file_index + 1} of ${p.files}: ${p.file} — ${bytes}, ${formatCount(p.records)} records`;
}

/** "12,000 records/s" over the time since the file started; "" before a rate means anything. */
export function rateLabel(records: number | null, elapsedMs: number): string {
  if (records === null || !(elapsedMs > 0) || !(records >= 0)) return "";
  return `${formatCount(Math.round((records * 1000) / elapsedMs))} records/s`;
}

export interface ImportTotals {
  files: number;
  failed: number;
  accepted: number;
  added: number;
  duplicates: number;
  rejected: number;
}

export function totals(reports: readonly ImportReportView[]): ImportTotals {
  const t: ImportTotals = { files: reports.length, failed: 0, accepted: 0, added: 0, duplicates: 0, rejected: 0 };
  for (const r of reports) {
    if (r.error != null) t.failed += 1;
    t.accepted += r.accepted ?? 0;
    t.added += r.added ?? 0;
    t.duplicates += r.duplicates ?? 0;
    t.rejected += r.rejected_total ?? 0;
  }
  return t;
}

/** A failed file in words; the backend's message may already say that nothing was stored. */
export function failureText(error: string): string {
  const text = error.trim().replace(/[.;:,]+$/, "");
  return /nothing (from|of) this file was stored/i.test(text) ? `Failed: ${text}.` : `Failed: ${text}. Nothing from this file was stored.`;
}

/** One line for the screen reader and the summary. */
export function totalsLabel(t: ImportTotals, requested: number): string {
  const parts = [
    `${t.files} of ${requested} file${requested === 1 ? "" : "s"} processed`,
    `${formatCount(t.added)} new records stored`,
    `${formatCount(t.duplicates)} already stored`,
    `${formatCount(t.rejected)} rejected`,
  ];
  if (t.failed > 0) parts.push(`${t.failed} failed`);
  if (t.files < requested) parts.push(`${requested - t.files} not started (cancelled)`);
  return `${parts.join(", ")}.`;
}
