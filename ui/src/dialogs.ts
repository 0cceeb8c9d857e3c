// Labelled modal <dialog>s for actions that change data: a note dialog (alerts) and a
// confirmation (model packages). The action runs inside the dialog, so its error is shown
// there in words and the user can retry or cancel; Escape closes.
import { errorText } from "./errors";
import { h, message } from "./dom";

export interface Ask {
  title: string;
  /** What will happen, in words. */
  body: string;
  confirmLabel: string;
  /** Note dialogs: the note's label and whether it may be empty. */
  noteLabel?: string;
  /** Returns a problem to show instead of running, or null. */
  check?: (note: string) => string | null;
  /** Runs the action; a thrown error keeps the dialog open and shows its words. */
  run: (note: string) => Promise<void>;
}

export interface ActionDialog {
  el: HTMLDialogElement;
  ask(request: Ask): void;
}

interface Ids {
  dialog: string;
  confirm: string;
  cancel: string;
  /** The note's textarea; none for a plain confirmation. */
  note?: string;
}

export function actionDialog(ids: Ids): ActionDialog {
  const titleId = `${ids.dialog}-title`;
  const heading = h("h2", { id: titleId });
  const body = h("p", { id: `${ids.dialog}-text`, class: "dialog-body" });
  const noteLabel = h("label", { for: ids.note ?? "" });
  const note = ids.note ? h("textarea", { id: ids.note, rows: 4, maxlength: 2000 }) : null;
  const problem = h("p", { class: "message", hidden: true });
  const cancel = h("button", { type: "button", id: ids.cancel, class: "secondary" }, "Cancel");
  const confirm = h("button", { type: "submit", id: ids.confirm, class: "primary" });
  const form = h(
    "form",
    // Our check shows its reason inline (role=alert) instead of the browser's bubble.
    { method: "dialog", novalidate: true },
    heading,
    body,
    note ? h("div", { class: "field" }, noteLabel, note) : null,
    problem,
    h("div", { class: "dialog-actions" }, cancel, confirm),
  );
  const el = h("dialog", { id: ids.dialog, "aria-labelledby": titleId, "aria-describedby": body.id }, form);
  let current: Ask | null = null;
  let busy = false;

  cancel.addEventListener("click", () => el.close());
  el.addEventListener("cancel", (e) => {
    if (busy) e.preventDefault();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!current || busy) return;
    const text = note?.value ?? "";
    const issue = current.check?.(text) ?? null;
    if (issue) {
      message(problem, issue, "error");
      note?.setAttribute("aria-invalid", "true");
      note?.focus();
      return;
    }
    const request = current;
    busy = true;
    confirm.disabled = true;
    cancel.disabled = true;
    form.setAttribute("aria-busy", "true");
    message(problem, "Working…", "info");
    request
      .run(text)
      .then(() => {
        el.close();
      })
      .catch((err: unknown) => {
        message(problem, errorText(err), "error");
      })
      .finally(() => {
        busy = false;
        confirm.disabled = false;
        cancel.disabled = false;
        form.setAttribute("aria-busy", "false");
      });
  });

  return {
    el,
    ask(request: Ask) {
      current = request;
      heading.textContent = request.title;
      body.textContent = request.body;
      confirm.textContent = request.confirmLabel;
      message(problem, "", "info");
      if (note) {
        note.value = "";
        note.removeAttribute("aria-invalid");
        noteLabel.textContent = request.noteLabel ?? "Note";
        note.required = request.check?.("") != null;
      }
      el.showModal();
      // A note is typed at once; a bare confirmation starts on Cancel, the safe choice.
      (note ?? cancel).focus();
    },
  };
}
