// What the status bar says of sync with the clinic server: "Not enrolled", "Online · last sync
// 14:05 · 3 pending", "Offline since 13:58 · 12 pending · retrying", and the conflicts kept for
// review when there are any. Counts and times only: the bar is shown on the sign-in and lock
// screens too. Pure.
import type { SyncView } from "../bindings";

export type SyncTone = "unknown" | "none" | "online" | "offline";

export interface SyncLine {
  /** The bar's text. */
  text: string;
  /** Its colour: a word always says the same. */
  tone: SyncTone;
  /** More on hover: the clinic, and why the last attempt failed. */
  detail: string;
}

const MINUTE = 60_000;
const pad = (n: number) => String(n).padStart(2, "0");

/**
 * "14:05" on the same day as `now` (in the screen's time zone; `offsetMin` east of UTC is given
 * in tests), "2026-11-23 14:05" on another day.
 */
export function clockTime(ms: number, now: number, offsetMin?: number): string {
  const local = (t: number) => new Date(t + (offsetMin ?? -new Date(t).getTimezoneOffset()) * MINUTE);
  const d = local(ms);
  const today = local(now);
  const hhmm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const sameDay =
    d.getUTCFullYear() === today.getUTCFullYear() && d.getUTCMonth() === today.getUTCMonth() && d.getUTCDate() === today.getUTCDate();
  return sameDay ? hhmm : `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hhmm}`;
}

const count = (n: number) => (Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0);

/** The status bar's line for `status` (null: not known, e.g. the store could not be opened). */
export function syncLine(status: SyncView | null, now: number, offsetMin?: number): SyncLine {
  if (status === null) return { text: "Sync status not available", tone: "unknown", detail: "" };
  if (!status.enrolled) {
    return { text: "Not enrolled", tone: "none", detail: "This workstation does not sync with a clinic server." };
  }
  const at = (ms: number | null | undefined) => (ms == null || !Number.isFinite(ms) ? null : clockTime(ms, now, offsetMin));
  const pending = `${count(status.pending)} pending`;
  const parts: string[] = [];
  if (status.online) {
    const last = at(status.last_success_ms);
    parts.push("Online", last === null ? "not synced yet" : `last sync ${last}`, pending);
  } else {
    const since = at(status.offline_since_ms);
    parts.push(since === null ? "Offline" : `Offline since ${since}`, pending, "retrying");
  }
  const conflicts = count(status.conflicts);
  if (conflicts > 0) parts.push(`${conflicts} conflict${conflicts === 1 ? "" : "s"} to review`);
  const detail = [
    status.clinic_name ? `Clinic: ${status.clinic_name}` : "",
    !status.online && status.last_error ? `Last error: ${status.last_error}` : "",
  ]
    .filter((d) => d !== "")
    .join("\n");
  return { text: parts.join(" · "), tone: status.online ? "online" : "offline", detail };
}
