// Break the glass: a restricted record opens only with a reason in words, which the audit trail
// keeps with the person's name; the access lasts 4 hours. The dialog belongs to the shell (the
// patient screen only shows the refusal), so it survives the screen's reload after the grant.
import { commands } from "./bindings";
import { actionDialog, type ActionDialog } from "./dialogs";
import { BREAK_GLASS_HOURS, breakGlassProblem } from "./logic/session";

let dialog: ActionDialog | null = null;

function the(): ActionDialog {
  if (!dialog) {
    dialog = actionDialog({ dialog: "break-glass-dialog", note: "break-glass-reason", confirm: "break-glass-confirm", cancel: "break-glass-cancel" });
    document.body.append(dialog.el);
    // The reason may name the situation: it does not stay in the page once the dialog closes.
    const reason = dialog.el.querySelector("textarea");
    dialog.el.addEventListener("close", () => {
      if (reason) reason.value = "";
    });
  }
  return dialog;
}

/** Asks why `patient`'s restricted record must be opened; on a grant, `opened()` reloads it. */
export function askBreakGlass(patient: string, opened: () => void): void {
  const d = the();
  if (d.el.open) return;
  d.ask({
    title: "This record is restricted",
    body:
      `Only people with a reason may open this patient's record. Say why you need it now (at least 8 characters). ` +
      `Your name, the time and your reason are recorded in the audit trail, and the access lasts ${BREAK_GLASS_HOURS} hours.`,
    confirmLabel: "Open the record",
    noteLabel: "Reason for opening the record",
    check: breakGlassProblem,
    run: async (reason) => {
      await commands.breakGlass(patient, reason.trim());
      opened();
    },
  });
}

/** Closes the dialog (the session locked or ended). */
export function closeBreakGlass(): void {
  if (dialog?.el.open) dialog.el.close();
}
