// The status bar at the foot of the window: where sync with the clinic server stands (counts
// and times only, so it stays on the sign-in and lock screens). Read every 5 s and after each
// background pass (the backend's `sync-changed` event); the words are in logic/sync.ts. A pass
// that stored the clinic's changes tells the open screen (`onSyncPulled`) to read again
// through its own commands: the event carries no patient data.
import { commands, events, type SyncView } from "./bindings";
import { syncLine } from "./logic/sync";

const PULLED = "vigil:sync-pulled";
const EVERY_MS = 5_000;
/** Answers to older reads are dropped. */
let asked = 0;

function show(status: SyncView | null): void {
  const bar = document.getElementById("sync-bar");
  if (!bar) return;
  const line = syncLine(status, Date.now());
  const text = document.getElementById("sync-bar-text")!;
  // Only a change is written: a screen reader announces the bar when its words change.
  if (text.textContent !== line.text) text.textContent = line.text;
  bar.dataset.tone = line.tone;
  if (line.detail) bar.title = line.detail;
  else bar.removeAttribute("title");
}

async function read(): Promise<void> {
  const n = ++asked;
  try {
    const status = await commands.syncStatus();
    if (n === asked) show(status);
  } catch {
    if (n === asked) show(null);
  }
}

/** Calls `refresh` after a background pass stored the clinic's changes; returns the unsubscribe. */
export function onSyncPulled(refresh: () => void): () => void {
  window.addEventListener(PULLED, refresh);
  return () => window.removeEventListener(PULLED, refresh);
}

/** Starts the bar (once, at start). */
export function startSyncBar(): void {
  void events.syncChanged.listen((e) => {
    asked += 1;
    show(e.payload.status);
    if (e.payload.pulled) window.dispatchEvent(new CustomEvent(PULLED));
  });
  void read();
  setInterval(() => void read(), EVERY_MS);
}
