// One place every command's error passes before the screen that asked sees it: the session's
// end (locked, idle, signed out) drops the page's patient data at once, and a restricted record
// asks for a break-the-glass reason. The generated `commands` object is wrapped in place, so
// the views call it as before.
import { commands } from "./bindings";
import { errorText } from "./errors";
import { errorKind } from "./logic/session";

/** The session's own commands answer for themselves (a wrong password is not a lock). */
const OWN = new Set(["sessionState", "createAdmin", "signIn", "signOut", "lockSession", "unlock", "userActivity", "breakGlass"]);

export interface Guards {
  /** A command failed (any error). */
  failed(e: unknown): void;
  /** Opening `patient` was refused: its record is restricted. */
  restricted(patient: string): void;
}

export function guardCommands(guards: Guards): void {
  const table = commands as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of Object.keys(table)) {
    if (OWN.has(name)) continue;
    const call = table[name];
    table[name] = (...args: unknown[]) =>
      call(...args).catch((e: unknown) => {
        guards.failed(e);
        if (name === "patientView" && errorKind(errorText(e)) === "restricted" && typeof args[0] === "string") {
          guards.restricted(args[0]);
        }
        throw e;
      });
  }
}
