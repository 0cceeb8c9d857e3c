// Who is at the keyboard, for the page. The backend holds the session (desktop/session.rs): it
// locks an idle one; this module asks it (`sessionState`, every 10 s: polling is not activity),
// reports real input (`userActivity`, throttled: keys, pointer presses, the wheel; never a
// timer), and turns every session change into one of the screens before the app (first run,
// sign-in, lock) or the app itself. Leaving the app for any of them, or a command answering
// "locked"/"idle"/"nobody is signed in", makes the shell forget every patient datum it holds
// (Shell.forget: the screen unmounted, stores cleared, pending refreshes cancelled). The rules
// are pure in logic/session.ts.
import { commands, type SessionInfo, type SessionView } from "./bindings";
import { errorText } from "./errors";
import { ACTIVITY_EVERY_MS, POLL_EVERY_MS, endsSession, phaseOf, throttle } from "./logic/session";
import { mountFirstRun, mountLock, mountSignIn, mountUnavailable } from "./views/login";

export interface Shell {
  main: HTMLElement;
  /** The session is live (signed in, unlocked, or another person): show the app. */
  activate(info: SessionInfo): void;
  /** The session is locked or ended: drop every patient datum the page holds. Idempotent. */
  forget(): void;
  /** A DEMO store (the badge and banner). */
  demo(on: boolean): void;
}

let shell: Shell | null = null;
/** What is on screen: `active:<user>:<role>`, `locked:<user>`, `signed_out`, `first_run`, or null. */
let shown: string | null = null;
let current: SessionInfo | null = null;
let demoPassword: string | null = null;
/** Answers to older `sessionState` calls are dropped. */
let asked = 0;

/** The live session, or null when locked, signed out or not known yet. */
export function activeSession(): SessionInfo | null {
  return shown?.startsWith("active:") ? current : null;
}

function keyOf(view: SessionView): string {
  const s = view.session ?? null;
  switch (phaseOf(view)) {
    case "active":
      return `active:${s!.user}:${s!.role}`;
    case "locked":
      return `locked:${s!.user}`;
    case "first_run":
      return "first_run";
    default:
      return "signed_out";
  }
}

function apply(view: SessionView): void {
  if (!shell) return;
  demoPassword = view.demo_password ?? null;
  shell.demo(demoPassword !== null);
  const key = keyOf(view);
  current = view.session ?? null;
  if (key === shown) return;
  // Any change of who or of state starts from nothing: whatever the last person saw goes.
  shell.forget();
  shown = key;
  const s = view.session ?? null;
  switch (phaseOf(view)) {
    case "active":
      shell.activate(s!);
      break;
    case "locked":
      document.title = "Locked · Vigil";
      mountLock(shell.main, s!, demoPassword, refresh, () => void signOut());
      break;
    case "first_run":
      document.title = "First run · Vigil";
      mountFirstRun(shell.main, refresh);
      break;
    default:
      document.title = "Sign in · Vigil";
      mountSignIn(shell.main, demoPassword, refresh);
  }
}

/** Asks the backend for the session and shows what it says. */
export async function refresh(): Promise<void> {
  const n = ++asked;
  try {
    const view = await commands.sessionState();
    if (n === asked) apply(view);
  } catch (e) {
    if (n !== asked || !shell) return;
    // The store could not be opened: nobody can sign in; say why.
    if (shown === null || shown === "unavailable") {
      shown = "unavailable";
      mountUnavailable(shell.main, errorText(e));
    }
  }
}

/** Drops the screen at once (before the backend answers), then asks what the session is. */
function dropNow(): void {
  if (!shell) return;
  shell.forget();
  shown = null;
  current = null;
}

/** The Lock button. */
export async function lock(): Promise<void> {
  dropNow();
  try {
    await commands.lockSession();
  } finally {
    await refresh();
  }
}

/** The Sign out button (header and lock screen). */
export async function signOut(): Promise<void> {
  dropNow();
  try {
    await commands.signOut();
  } finally {
    await refresh();
  }
}

/**
 * Every command's error passes here (guard.ts): an answer that the session is locked, idle or
 * gone drops the screen at once, before the view that asked can show anything more.
 */
export function commandFailed(e: unknown): void {
  if (!endsSession(errorText(e)) || !activeSession()) return;
  dropNow();
  void refresh();
}

/** Starts the session: the first answer decides the first screen. */
export function startSession(s: Shell): Promise<void> {
  shell = s;
  const due = throttle(ACTIVITY_EVERY_MS);
  const activity = () => {
    if (activeSession() && due(Date.now())) void commands.userActivity().catch(() => {});
  };
  for (const type of ["keydown", "pointerdown", "wheel"]) {
    document.addEventListener(type, activity, { capture: true, passive: true });
  }
  setInterval(() => void refresh(), POLL_EVERY_MS);
  return refresh();
}
