//! Text and JSON rendering of facade results for the terminal.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::domain::{Observation, ObservationValue, Patient, SourceId};
use crate::workstation::StoreStatus;
use crate::workstation::views::PatientView;

/// Writes to stdout. A closed pipe (`vigil export ... | head`) ends the output quietly instead
/// of panicking.
pub(super) fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Text for the terminal with its control characters escaped (`\u{1b}`), so text from a file
/// (a CSV kind, a FHIR name) cannot send escape sequences that retitle the terminal or move the
/// cursor. Newlines and tabs are escaped too: one reason stays one line.
pub(super) fn terminal_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

pub(super) fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    emit(&format!("{}\n", serde_json::to_string_pretty(value)?))
}

pub(super) fn status(s: &StoreStatus) -> String {
    let mut out = String::new();
    let rows = [
        ("Data directory", s.data_dir.clone()),
        ("Store", format!("{} ({})", s.store_path, human_bytes(s.size_bytes))),
        (
            "Encryption",
            if s.encrypted { format!("on (SQLCipher; key in {})", s.key_source) } else { "OFF".into() },
        ),
        ("Schema version", s.schema_version.to_string()),
        ("Purpose", s.purpose.as_str().to_owned()),
        ("Patients", s.patients.to_string()),
        ("Observations", s.observations.to_string()),
    ];
    for (label, value) in rows {
        let _ = writeln!(out, "{label:<16}{value}");
    }
    if s.demo {
        let _ = writeln!(out, "{:<16}DEMO store: synthetic patients, not real data", "Note");
    }
    if let Some(note) = s.purpose.models_note() {
        let _ = writeln!(out, "{:<16}{note}", "Models");
    }
    out
}

pub(super) fn patients(patients: &[Patient]) -> String {
    let mut out = String::new();
    if patients.is_empty() {
        return "No patients yet (add one with `vigil patient add --mrn ... --name ...`)\n".into();
    }
    let _ = writeln!(out, "{:<14} {:<28} {:<10} {:<8} ID", "MRN", "NAME", "BORN", "SEX");
    for p in patients {
        let born = p.birth_date.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
        let (mrn, name) = (terminal_text(&p.mrn), terminal_text(&p.name));
        let _ = writeln!(out, "{mrn:<14} {name:<28} {born:<10} {:<8} {}", p.sex, p.id);
    }
    out
}

pub(super) fn patient(p: &Patient) -> String {
    let mut out = String::new();
    let consent = [
        ("monitoring", p.consent.monitoring),
        ("clinic-sync", p.consent.clinic_sync),
        ("research", p.consent.research),
    ]
    .iter()
    .filter(|(_, given)| *given)
    .map(|(name, _)| *name)
    .collect::<Vec<_>>();
    let _ = writeln!(out, "{:<12}{}", "ID", p.id);
    let _ = writeln!(out, "{:<12}{}", "MRN", terminal_text(&p.mrn));
    let _ = writeln!(out, "{:<12}{}", "Name", terminal_text(&p.name));
    let _ =
        writeln!(out, "{:<12}{}", "Born", p.birth_date.map(|d| d.to_string()).unwrap_or_else(|| "-".into()));
    let _ = writeln!(out, "{:<12}{}", "Sex", p.sex);
    let _ = writeln!(
        out,
        "{:<12}{}",
        "Consent",
        if consent.is_empty() { "none recorded".to_owned() } else { consent.join(", ") }
    );
    out
}

/// The patient screen as text: vitals, NEWS2, HRV, weight and its flags, open alerts.
pub(super) fn patient_view(v: &PatientView) -> String {
    let mut out = format!("{} ({})\n", v.name, v.mrn);
    for r in &v.latest {
        let _ = writeln!(out, "{:<18}{} {}", r.label, r.value, r.unit);
    }
    match &v.news2 {
        Some(n) => {
            let _ = writeln!(out, "{:<18}{} ({}, {})", "NEWS2", n.aggregate, n.band, n.response);
        }
        None => {
            let _ = writeln!(out, "{:<18}not scored (a measured parameter is missing)", "NEWS2");
        }
    }
    match (&v.hrv, &v.hrv_absent) {
        (Some(h), _) => {
            let _ = writeln!(
                out,
                "{:<18}SDNN {:.1} ms, RMSSD {:.1} ms, pNN50 {:.1} %, mean HR {:.0} /min ({} beats)",
                "HRV", h.sdnn_ms, h.rmssd_ms, h.pnn50, h.mean_hr, h.beats
            );
        }
        (None, why) => {
            let _ = writeln!(out, "{:<18}{}", "HRV", why.as_deref().unwrap_or("not available"));
        }
    }
    if let Some(w) = &v.weight {
        let _ = writeln!(out, "{:<18}{:.1} kg latest, {} weights", "Weight", w.latest_kg, w.weights);
        for f in &w.flags {
            let _ = writeln!(out, "{:<18}{f}", "Weight flag");
        }
    }
    let _ = writeln!(out, "{:<18}{}", "Open alerts", v.open_alerts.len());
    out
}

/// One observation as `vigil observations --json` prints it.
#[derive(Debug, Serialize)]
pub(super) struct ObservationRow<'a> {
    id: String,
    kind: &'static str,
    value: Option<f64>,
    absent_reason: Option<&'static str>,
    unit: &'static str,
    effective: String,
    source: &'a str,
}

pub(super) fn observation_rows<'a>(
    observations: &[Observation],
    sources: &'a HashMap<SourceId, String>,
) -> Vec<ObservationRow<'a>> {
    observations
        .iter()
        .map(|o| ObservationRow {
            id: o.id.to_string(),
            kind: o.kind.as_str(),
            value: o.value.quantity(),
            absent_reason: match o.value {
                ObservationValue::Absent(r) => Some(r.as_str()),
                ObservationValue::Quantity(_) => None,
            },
            unit: o.kind.unit(),
            effective: o.effective.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            source: sources.get(&o.source_id).map(String::as_str).unwrap_or("unknown"),
        })
        .collect()
}

pub(super) fn observations(observations: &[Observation], sources: &HashMap<SourceId, String>) -> String {
    let mut out = String::new();
    if observations.is_empty() {
        return "No observations match\n".into();
    }
    let _ = writeln!(out, "{:<30} {:<18} {:>12} {:<8} SOURCE", "TIME", "KIND", "VALUE", "UNIT");
    for row in observation_rows(observations, sources) {
        let value = match (row.value, row.absent_reason) {
            (Some(v), _) => v.to_string(),
            (None, Some(reason)) => format!("({reason})"),
            (None, None) => "-".into(),
        };
        let _ = writeln!(
            out,
            "{:<30} {:<18} {:>12} {:<8} {}",
            row.effective,
            row.kind,
            value,
            row.unit,
            terminal_text(row.source)
        );
    }
    let _ = writeln!(out, "{} observations", observations.len());
    out
}

pub(super) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}
