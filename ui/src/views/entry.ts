// Manual entry dialogs (issue 11): "Record vitals" on the patient screen, "New patient" on the
// worklist and "Edit patient" on the patient screen. Thin DOM code: parsing is in
// logic/entry.ts, validation in the facade, whose words are shown in the dialog beside the
// field they name.
import { commands, type PatientView, type VitalsEntry } from "../bindings";
import { h, message } from "../dom";
import { errorText } from "../errors";
import { errorField, news2Summary, patientForm, vitalsForm, type PatientFields, type VitalsFields } from "../logic/entry";

type Inputs = Record<string, HTMLInputElement | HTMLSelectElement>;

function field(id: string, label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label, hint ? h("span", { class: "unit" }, ` ${hint}`) : null), control);
}

function numberInput(): HTMLInputElement {
  return h("input", { type: "text", inputmode: "decimal", autocomplete: "off", size: 6 });
}

function select(options: [string, string][]): HTMLSelectElement {
  return h("select", {}, options.map(([value, text]) => h("option", { value }, text)));
}

interface Shell {
  el: HTMLDialogElement;
  form: HTMLFormElement;
  problem: HTMLElement;
  submit: HTMLButtonElement;
  cancel: HTMLButtonElement;
}

function shell(id: string, title: string, submitLabel: string, body: HTMLElement[]): Shell {
  const problem = h("p", { id: `${id}-problem`, class: "message", hidden: true, role: "alert" });
  const cancel = h("button", { type: "button", class: "secondary", id: `${id}-cancel` }, "Cancel");
  const submit = h("button", { type: "submit", class: "primary", id: `${id}-save` }, submitLabel);
  const form = h("form", { method: "dialog", novalidate: true }, h("h2", { id: `${id}-title` }, title), ...body, problem, h("div", { class: "dialog-actions" }, cancel, submit));
  const el = h("dialog", { id, "aria-labelledby": `${id}-title` }, form);
  cancel.addEventListener("click", () => el.close());
  el.addEventListener("close", () => el.remove());
  return { el, form, problem, submit, cancel };
}

/** Marks `name`'s control invalid (and focuses it), clearing the others. */
function markInvalid(inputs: Inputs, name: string | null): void {
  for (const [key, input] of Object.entries(inputs)) {
    if (key === name) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      input.removeAttribute("aria-invalid");
    }
  }
}

/** Runs `save`; its error stays in the dialog, in words, next to the field it names. */
function submitting(s: Shell, inputs: Inputs, save: () => Promise<string>): void {
  s.submit.disabled = true;
  s.cancel.disabled = true;
  s.form.setAttribute("aria-busy", "true");
  message(s.problem, "Saving…", "info");
  save()
    .then((done) => {
      markInvalid(inputs, null);
      message(s.problem, done, "success");
      s.submit.hidden = true;
      s.cancel.textContent = "Close";
    })
    .catch((e: unknown) => {
      const text = errorText(e);
      message(s.problem, text, "error");
      markInvalid(inputs, errorField(text));
    })
    .finally(() => {
      s.submit.disabled = false;
      s.cancel.disabled = false;
      s.form.setAttribute("aria-busy", "false");
    });
}

/** Opens "Record vitals" for `patientId`; `saved` runs with the entry once it is stored. */
export function openVitalsDialog(host: HTMLElement, patientId: string, saved: (entry: VitalsEntry) => void): void {
  const inputs = {
    heart_rate: numberInput(),
    spo2: numberInput(),
    spo2_scale: select([["", "—"], ["1", "Scale 1"], ["2", "Scale 2 (prescribed 88–92 %)"]]),
    oxygen: select([["", "—"], ["air", "Air"], ["oxygen", "Oxygen"]]),
    respiratory_rate: numberInput(),
    bp: h("input", { type: "text", inputmode: "numeric", autocomplete: "off", size: 8, placeholder: "120/80" }),
    temperature: numberInput(),
    consciousness: select([["", "—"], ["A", "A — alert"], ["C", "C — new confusion"], ["V", "V — voice"], ["P", "P — pain"], ["U", "U — unresponsive"]]),
    weight: numberInput(),
  };
  const s = shell("vitals-dialog", "Record vitals", "Save vitals", [
    h("p", { class: "dialog-body muted" }, "Enter what was measured now; leave the rest empty."),
    h(
      "div",
      { class: "field-grid" },
      field("vitals-heart-rate", "Heart rate", inputs.heart_rate, "/min"),
      field("vitals-spo2", "SpO₂", inputs.spo2, "%"),
      field("vitals-spo2-scale", "SpO₂ scale", inputs.spo2_scale),
      field("vitals-oxygen", "Air or oxygen", inputs.oxygen),
      field("vitals-resp-rate", "Respiratory rate", inputs.respiratory_rate, "/min"),
      field("vitals-bp", "Blood pressure", inputs.bp, "mmHg"),
      field("vitals-temperature", "Temperature", inputs.temperature, "°C"),
      field("vitals-consciousness", "Consciousness (ACVPU)", inputs.consciousness),
      field("vitals-weight", "Weight", inputs.weight, "kg"),
    ),
  ]);
  s.form.addEventListener("submit", (e) => {
    e.preventDefault();
    const typed = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value])) as unknown as VitalsFields;
    const parsed = vitalsForm(typed);
    if (!parsed.ok) {
      message(s.problem, parsed.problem, "error");
      markInvalid(inputs, parsed.field);
      return;
    }
    submitting(s, inputs, async () => {
      const entry = await commands.recordVitals(patientId, parsed.value);
      saved(entry);
      return news2Summary(entry);
    });
  });
  host.append(s.el);
  s.el.showModal();
  inputs.heart_rate.focus();
}

/** Opens "New patient" (no `current`) or "Edit patient"; `saved` runs with the patient's id. */
export function openPatientDialog(host: HTMLElement, current: PatientView | null, saved: (id: string) => void): void {
  const inputs = {
    mrn: h("input", { type: "text", autocomplete: "off", maxlength: 64 }),
    name: h("input", { type: "text", autocomplete: "off", maxlength: 200 }),
    birth_date: h("input", { type: "date" }),
    sex: select([["unknown", "Unknown"], ["female", "Female"], ["male", "Male"], ["other", "Other"]]),
  };
  const consent = {
    monitoring: h("input", { type: "checkbox", id: "patient-consent-monitoring" }),
    clinic_sync: h("input", { type: "checkbox", id: "patient-consent-clinic-sync" }),
    research: h("input", { type: "checkbox", id: "patient-consent-research" }),
  };
  if (current) {
    inputs.mrn.value = current.mrn;
    inputs.name.value = current.name;
    inputs.birth_date.value = current.birth_date ?? "";
    inputs.sex.value = current.sex;
  }
  const box = (input: HTMLInputElement, text: string) => h("label", { class: "check", for: input.id }, input, ` ${text}`);
  const s = shell("patient-dialog", current ? "Edit patient" : "New patient", current ? "Save changes" : "Register patient", [
    h(
      "div",
      { class: "field-grid" },
      field("patient-mrn", "MRN", inputs.mrn),
      field("patient-name", "Name", inputs.name),
      field("patient-birth-date", "Birth date", inputs.birth_date),
      field("patient-sex", "Sex", inputs.sex),
    ),
    current
      ? h("p", { class: "muted small" }, "Consent is recorded, with a note and as a new version, by `vigil patient consent`.")
      : h("fieldset", {}, h("legend", {}, "Consent"), box(consent.monitoring, "Monitoring at this workstation"), box(consent.clinic_sync, "Sending data to the clinic"), box(consent.research, "Research use")),
  ]);
  s.form.addEventListener("submit", (e) => {
    e.preventDefault();
    const typed: PatientFields = {
      mrn: inputs.mrn.value,
      name: inputs.name.value,
      birth_date: inputs.birth_date.value,
      sex: inputs.sex.value,
      consent: current ? null : { monitoring: consent.monitoring.checked, clinic_sync: consent.clinic_sync.checked, research: consent.research.checked },
    };
    const parsed = patientForm(typed);
    if (!parsed.ok) {
      message(s.problem, parsed.problem, "error");
      markInvalid(inputs, parsed.field);
      return;
    }
    submitting(s, inputs, async () => {
      const id = current ? await commands.updatePatient(current.patient_id, parsed.value) : await commands.addPatient(parsed.value);
      saved(id);
      return current ? "Saved." : `Registered ${parsed.value.name} (MRN ${parsed.value.mrn}).`;
    });
  });
  host.append(s.el);
  s.el.showModal();
  (current ? inputs.name : inputs.mrn).focus();
}
