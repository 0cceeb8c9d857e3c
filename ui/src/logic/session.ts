// The session's pure rules for the window: which screens a role sees, where it lands, which
// backend errors mean "the session is gone" (the page must forget every patient datum), the
// activity throttle and the break-the-glass reason. Tested by vitest (session.test.ts); the DOM
// side is ui/src/session.ts.
import type { Role, SessionInfo, SessionView } from "../bindings";
import type { Route, ViewName } from "../router";

/** The screens of the app shell (the patient screen belongs to the worklist). */
export type Screen = ViewName;

/**
 * What each role may open, following the backend's permission matrix (domain/access.rs):
 * clinical screens for clinicians and nurses; packages and settings for IT; the audit trail for
 * auditors; settings for admins. The backend still decides: a screen shown here that a command
 * refuses shows the refusal in words.
 */
const SCREENS: Record<Role, Screen[]> = {
  clinician: ["worklist", "patient", "alerts", "devices", "import", "agents", "settings"],
  nurse: ["worklist", "patient", "alerts", "devices", "import", "agents", "settings"],
  it: ["agents", "settings"],
  auditor: ["audit", "settings"],
  admin: ["settings"],
  monitor: ["settings"],
};

export function screensFor(role: Role): Screen[] {
  return SCREENS[role] ?? [];
}

export function canOpen(role: Role, screen: Screen): boolean {
  return screensFor(role).includes(screen);
}

/** The screen a role starts on after signing in or unlocking. */
export function homeFor(role: Role): Screen {
  return screensFor(role)[0] ?? "settings";
}

/** Whether the signed-in role may see the live alert badge and banner (alerts.watch). */
export function watchesAlerts(role: Role): boolean {
  return role === "clinician" || role === "nurse";
}

/** Whether the settings screen may ask for the agents (agents.read): not the auditor. */
export function readsAgents(role: Role): boolean {
  return role !== "auditor";
}

/** The screen a route opens (null for "not found"). */
export function routeScreen(route: Route): Screen | null {
  return route.view === "not_found" ? null : route.view;
}

/** Where to go once the session is live: the route asked for, if the role may open it. */
export function landing(role: Role, route: Route): Route {
  const screen = routeScreen(route);
  if (screen === null) return route;
  if (canOpen(role, screen)) return route;
  return { view: homeFor(role) } as Route;
}

export type Phase = "unavailable" | "first_run" | "signed_out" | "locked" | "active";

/** What the window shows for a `sessionState()` answer. */
export function phaseOf(view: SessionView | null): Phase {
  if (view === null) return "unavailable";
  if (view.first_run) return "first_run";
  const session = view.session ?? null;
  if (session === null) return "signed_out";
  return session.locked ? "locked" : "active";
}

/** What a command's error says about the session. */
export type ErrorKind = "locked" | "signed_out" | "denied" | "restricted" | null;

/**
 * Classifies a backend error's words (workstation/error.rs): a locked or idle session, nobody
 * signed in, a role refused, a restricted record. Everything else is an ordinary error.
 */
export function errorKind(text: string): ErrorKind {
  if (/the session is locked|the session was idle for \d+ minutes? or more/i.test(text)) return "locked";
  if (/nobody is signed in/i.test(text)) return "signed_out";
  if (/^access denied: /i.test(text) || /\baccess denied: the \w+ role may not\b/i.test(text)) return "denied";
  if (/record is restricted/i.test(text)) return "restricted";
  return null;
}

/** A session error: the page must drop what it shows (lock or sign-in screen). */
export function endsSession(text: string): boolean {
  const kind = errorKind(text);
  return kind === "locked" || kind === "signed_out";
}

/**
 * A leading-edge throttle on an injected clock: true when the caller should act now (the first
 * call, then at most once per `intervalMs`). Real input reports activity through it, so a burst
 * of keys costs one IPC call.
 */
export function throttle(intervalMs: number): (now: number) => boolean {
  let last = -Infinity;
  return (now: number) => {
    if (now - last < intervalMs) return false;
    last = now;
    return true;
  };
}

/** How often the page reports real input, and how often it asks for the session's state. */
export const ACTIVITY_EVERY_MS = 20_000;
export const POLL_EVERY_MS = 10_000;

/** The break-the-glass reason's problem, or null (domain::access::validate_break_glass_reason). */
export function breakGlassProblem(reason: string): string | null {
  const n = [...reason.trim()].length;
  if (n < 8) return `Give the reason in words: at least 8 characters (${n} so far).`;
  if (n > 500) return "The reason is longer than 500 characters.";
  return null;
}

/** How long a break-the-glass grant lasts (domain::access::BREAK_GLASS_HOURS). */
export const BREAK_GLASS_HOURS = 4;

/** The shortest password the backend accepts (domain::access::MIN_PASSWORD_CHARS). */
export const MIN_PASSWORD_CHARS = 10;

/** The first administrator's form: a problem to show before asking the backend, or null. */
export function newAdminProblem(name: string, password: string, again: string): string | null {
  if (name.trim() === "") return "Give the administrator's user name.";
  if ([...password].length < MIN_PASSWORD_CHARS) return `The password needs at least ${MIN_PASSWORD_CHARS} characters.`;
  if (password !== again) return "The two passwords differ: type the same password twice.";
  return null;
}

/** "ada (clinician)" for the header; "ada (clinician, locked)" on the lock screen. */
export function whoText(s: SessionInfo): string {
  return `${s.user} (${roleLabel(s.role)}${s.locked ? ", locked" : ""})`;
}

const ROLE_LABELS: Record<Role, string> = {
  clinician: "clinician",
  nurse: "nurse",
  admin: "administrator",
  it: "IT",
  auditor: "auditor",
  monitor: "monitor service",
};

export function roleLabel(role: Role): string {
  return ROLE_LABELS[role] ?? role;
}

/** The demo store's accounts (made by `vigil demo`; workstation/demo.rs). */
export const DEMO_ACCOUNTS: Role[] = ["clinician", "nurse", "admin", "it", "auditor"];

/** What a refused screen says: the backend's words when it gave them, else the role's limit. */
export function deniedText(role: Role, screen: Screen): string {
  return `The ${roleLabel(role)} role may not open ${SCREEN_NAMES[screen]}. Sign in as someone else (Lock, then Switch user) if you need it.`;
}

const SCREEN_NAMES: Record<Screen, string> = {
  worklist: "the worklist",
  patient: "patient records",
  alerts: "the alerts inbox",
  devices: "the devices",
  import: "the import",
  agents: "the agents and models",
  settings: "the settings",
  audit: "the audit trail",
};
