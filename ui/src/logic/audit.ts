// The audit screen's pure rules: the filter and which events stand out. Tested by vitest.
import type { AuditEntryView } from "../bindings";

/** Rows whose actor, action or patient id contains every word of `query` (case-insensitive). */
export function filterAudit(rows: AuditEntryView[], query: string): AuditEntryView[] {
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return rows;
  return rows.filter((r) => {
    const text = `${r.actor} ${r.action} ${r.patient_id ?? ""}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

/** Events an auditor looks for first: refusals, failed sign-ins, lockouts, broken glass. */
export function notable(action: string): boolean {
  return /^(access\.denied|session\.login_failed|user\.lockout)$/.test(action) || action.includes("break_glass");
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** "2026-03-01 08:05:09" in the screen's local time (audit events need the second). */
export function auditTime(ms: number | null): string {
  if (ms == null || !Number.isFinite(ms)) return "—";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
