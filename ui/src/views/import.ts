// Import: files chosen or typed, progress streamed over a Channel, a report per file. The
// import's state outlives the view (an import keeps running when the user looks elsewhere).
import { Channel } from "@tauri-apps/api/core";
import { open } from "@tauri-apps/plugin-dialog";
import { commands, type ImportProgressView, type ImportReportView } from "../bindings";
import { h, message, setState, viewRoot } from "../dom";
import { errorText } from "../errors";
import { VITALS, humanize, riskClass } from "../logic/format";
import { raisedSummary } from "../logic/live";
import { appendPaths, failureText, parsePaths, progressFraction, progressLabel, rateLabel, totals, totalsLabel } from "../logic/importing";
import { formatCount } from "../status";
import type { Unmount, ViewContext } from "./view";

interface Run {
  requested: number;
  running: boolean;
  /** Cancel was asked for (and stays true once the run ends). */
  cancelling: boolean;
  cancelled: boolean;
  progress: ImportProgressView | null;
  fileStartedAt: number;
  reports: ImportReportView[] | null;
  error: string | null;
}

/** The import screen's one state object: the form's text and the run in hand or last. */
const session = { paths: "", patient: "", run: null as Run | null, redraw: null as (() => void) | null };

export function mountImport(ctx: ViewContext): Unmount {
  const { root, heading } = viewRoot("import", "Import");
  const paths = h("textarea", { id: "import-paths", rows: 5, spellcheck: "false", placeholder: "/home/me/exports/vitals.csv\n/home/me/exports/export.zip", "aria-describedby": "import-paths-help" });
  const patient = h("input", { id: "import-patient", type: "text", autocomplete: "off", spellcheck: "false", placeholder: "e.g. DEMO-0003" });
  const browse = h("button", { type: "button", id: "import-browse", class: "secondary" }, "Choose files…");
  const start = h("button", { type: "button", id: "import-start", class: "primary" }, "Start import");
  const cancel = h("button", { type: "button", id: "import-cancel", class: "secondary", disabled: true }, "Cancel");
  const formMessage = h("p", { class: "message", hidden: true });
  const bar = h("progress", { id: "import-progress", max: 1, value: 0, "aria-labelledby": "import-progress-label" });
  const label = h("p", { id: "import-progress-label", class: "progress-label" }, "No import running.");
  const rate = h("p", { class: "muted small", "aria-hidden": "true" });
  const report = h("div", { id: "import-report" });
  // The outcome is announced once; the running figures are not read out.
  const announce = h("p", { class: "sr-only", role: "status" });
  paths.value = session.paths;
  patient.value = session.patient;

  root.append(
    h("div", { class: "view-head" }, heading),
    h(
      "section",
      { class: "card import-form", "aria-label": "Files to import" },
      h("div", { class: "field" }, h("label", { for: "import-paths" }, "Files, one path a line"), paths, h("p", { id: "import-paths-help", class: "muted small" }, "CSV, FHIR JSON/NDJSON, Apple Health export (xml or zip), Garmin FIT. Choose files or paste their paths.")),
      h("div", { class: "form-row" }, browse, h("div", { class: "field grow" }, h("label", { for: "import-patient" }, "Patient for files that name none (id or MRN, optional)"), patient)),
      formMessage,
      h("div", { class: "form-row" }, start, cancel),
    ),
    h("section", { class: "card import-progress", "aria-label": "Progress" }, bar, label, rate, announce),
    report,
  );
  ctx.main.replaceChildren(root);
  setState(root, "ready");

  let frame = 0;
  function redraw(): void {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
  }

  function draw(): void {
    const run = session.run;
    const running = run?.running ?? false;
    start.disabled = running;
    browse.disabled = running;
    cancel.disabled = !running || (run?.cancelling ?? false);
    root.setAttribute("aria-busy", String(running));
    if (!run) return;
    const done = !running && run.reports !== null;
    bar.value = done && !run.cancelling ? 1 : progressFraction(run.progress);
    if (running) {
      label.textContent = run.progress ? progressLabel(run.progress) : "Starting…";
      if (run.cancelling) label.textContent += " — cancelling";
      rate.textContent = run.progress ? rateLabel(run.progress.records, performance.now() - run.fileStartedAt) : "";
    } else if (run.error) {
      label.textContent = "The import did not run.";
      rate.textContent = "";
    } else if (run.reports) {
      label.textContent = `${run.cancelling ? "Cancelled" : "Finished"}. ${totalsLabel(totals(run.reports), run.requested)}`;
      rate.textContent = "";
      if (announce.textContent !== label.textContent) announce.textContent = label.textContent;
    }
    if (run.error) message(formMessage, `The import could not run: ${run.error}`, "error");
    else if (run.cancelled) message(formMessage, "Import cancelled: the file in hand stored nothing; the files after it were not started.", "info");
    if (!running && run.reports && report.dataset.drawn !== "1") {
      report.replaceChildren(...run.reports.map(fileReport));
      report.dataset.drawn = "1";
    }
  }

  paths.addEventListener("input", () => (session.paths = paths.value));
  patient.addEventListener("input", () => (session.patient = patient.value));
  browse.addEventListener("click", () => {
    open({ multiple: true, directory: false })
      .then((chosen) => {
        if (chosen == null) return;
        const list = Array.isArray(chosen) ? chosen : [chosen];
        paths.value = appendPaths(paths.value, list);
        session.paths = paths.value;
        paths.focus();
      })
      .catch((e: unknown) => message(formMessage, `The file chooser failed: ${errorText(e)}. Type the paths instead.`, "error"));
  });
  start.addEventListener("click", () => {
    const list = parsePaths(paths.value);
    if (list.length === 0) {
      message(formMessage, "Add at least one file: choose files or type a path per line.", "error");
      paths.focus();
      return;
    }
    message(formMessage, "", "info");
    report.replaceChildren();
    delete report.dataset.drawn;
    const run: Run = { requested: list.length, running: true, cancelling: false, cancelled: false, progress: null, fileStartedAt: performance.now(), reports: null, error: null };
    session.run = run;
    const channel = new Channel<ImportProgressView>();
    channel.onmessage = (p) => {
      if (!run.progress || run.progress.file_index !== p.file_index) run.fileStartedAt = performance.now();
      run.progress = p;
      session.redraw?.();
    };
    const who = patient.value.trim();
    commands
      .importFiles(list, who === "" ? null : who, channel)
      // A run forgotten meanwhile (the session locked) keeps nothing of its reports.
      .then((reports) => {
        if (session.run === run) run.reports = reports;
      })
      .catch((e: unknown) => {
        if (session.run === run) run.error = errorText(e);
      })
      .finally(() => {
        run.running = false;
        if (run.cancelling) run.cancelled = true;
        session.redraw?.();
      });
    announce.textContent = "";
    draw();
  });
  cancel.addEventListener("click", () => {
    const run = session.run;
    if (!run?.running) return;
    run.cancelling = true;
    draw();
    commands
      .cancelImport()
      .then((was) => {
        if (!was) run.cancelling = false;
        if (run.cancelled) message(formMessage, "Import cancelled: the file in hand stored nothing; the files after it were not started.", "info");
        else message(formMessage, was ? "Cancelling: the file in hand stores nothing; the files after it are not started." : "No import was running.", "info");
      })
      .catch((e: unknown) => {
        run.cancelling = false;
        message(formMessage, `Cancel failed: ${errorText(e)}`, "error");
      })
      .finally(() => session.redraw?.());
  });

  session.redraw = redraw;
  draw();
  return () => {
    session.redraw = null;
    if (frame) cancelAnimationFrame(frame);
  };
}

/**
 * The session locked or ended: the form's paths, the patient and the last reports (which name
 * patients) are forgotten. An import still running goes on in the backend; its report is not
 * kept here.
 */
export function forgetImport(): void {
  session.paths = "";
  session.patient = "";
  session.run = null;
  session.redraw = null;
}

function count(label: string, field: string, value: number | null, emphasis = false): HTMLElement[] {
  return [h("dt", {}, label), h("dd", { "data-field": field, class: emphasis && (value ?? 0) > 0 ? "warn" : "" }, formatCount(value))];
}

function fileReport(r: ImportReportView): HTMLElement {
  const name = r.file.split(/[\\/]/).pop() || r.file;
  const failed = r.error != null;
  return h(
    "section",
    { class: `card file-report${failed ? " failed" : ""}`, "data-file": r.file, "aria-label": `Report for ${name}` },
    h("h2", {}, failed ? "✖ " : "✔ ", name, h("span", { class: "muted small" }, ` ${[r.format, r.file === name ? null : r.file].filter(Boolean).join(" · ")}`)),
    failed ? h("p", { class: "message message-error", "data-field": "error" }, failureText(r.error ?? "")) : null,
    h(
      "dl",
      { class: "counts" },
      count("Accepted", "accepted", r.accepted),
      count("Already stored", "duplicates", r.duplicates),
      count("Newly stored", "added", r.added),
      count("Rejected", "rejected_total", r.rejected_total, true),
      count("Patients created", "patients_created", r.patients_created),
    ),
    r.by_kind.length
      ? h("p", { class: "kinds" }, "By kind: ", r.by_kind.map((k, i) => [i ? ", " : "", h("span", { class: "kind" }, `${VITALS[k.kind]?.label ?? humanize(k.kind)} ${formatCount(k.count)}`)]).flat())
      : null,
    failed
      ? null
      : h(
          "div",
          { class: "raised-alerts", "data-field": "alerts", "data-count": String(r.alerts.length) },
          h("p", { class: r.alerts.length ? "warn" : "muted" }, raisedSummary(r.alerts)),
          r.alerts.length
            ? h(
                "ul",
                {},
                r.alerts.slice(0, 20).map((a) =>
                  h("li", { "data-alert-id": a.id }, h("span", { class: riskClass(a.risk_level) }, a.risk_level), ` ${humanize(a.event)} at ${a.event_time} `, h("a", { href: `#/patient/${encodeURIComponent(a.patient_id)}` }, "Open patient")),
                ),
                r.alerts.length > 20 ? h("li", {}, h("a", { href: "#/alerts" }, `and ${r.alerts.length - 20} more in the inbox`)) : null,
              )
            : null,
        ),
    r.rejected.length
      ? h(
          "details",
          { open: (r.rejected_total ?? 0) <= 20 },
          h("summary", {}, r.rejected.length < (r.rejected_total ?? 0) ? `Rejected records (first ${r.rejected.length} of ${formatCount(r.rejected_total)})` : `Rejected records (${r.rejected.length})`),
          h("ol", { class: "rejections", tabindex: 0, "aria-label": "Rejected records" }, r.rejected.map((x) => h("li", {}, h("span", { class: "mono" }, x.location), ` — ${x.reason}`))),
        )
      : null,
  );
}
