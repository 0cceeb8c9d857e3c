//! Benchmarks that print figures (`vigil bench ...`). Timings live here, never in pass/fail
//! tests: the machines are shared and noisy, so each figure is quoted beside a reference
//! measured in the same run.

mod agents;
mod analysis;
mod ble;
mod fhir;
mod models;
mod monitor;
mod reads;
mod store;
mod ui;

pub use agents::{AgentsBenchOptions, AgentsBenchReport, agents_bench, full_context};
pub use analysis::{AnalysisBenchOptions, AnalysisBenchReport, analysis_bench};
pub use ble::{BleBenchReport, ble_bench};
pub use fhir::{FhirBenchReport, FhirFigures, fhir_bench, write_fhir_file};
pub use models::{ModelsBenchReport, models_bench};
pub use monitor::{MonitorBenchReport, monitor_bench};
pub use reads::{ReadsBenchReport, reads_bench};
pub use store::{StoreBenchOptions, StoreBenchReport, store_bench};
pub use ui::{UiBenchReport, ui_bench};

/// Benchmark patient number `n`: `BENCH-0000`, `BENCH-0001`, ...
pub(crate) fn bench_patient(
    n: u64,
    today: chrono::NaiveDate,
) -> Result<crate::domain::NewPatient, crate::domain::InvalidField> {
    use crate::domain::{Consent, NewPatient, Sex};
    NewPatient::new(&format!("BENCH-{n:04}"), "Bench Patient", None, Sex::Unknown, Consent::FULL, today)
}

/// This process's CPU time (user + system), ms: fields 14 and 15 of /proc/self/stat.
pub(crate) fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return f64::NAN };
    let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else { return f64::NAN };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(f64::NAN);
    let hz = rustix::param::clock_ticks_per_second() as f64;
    (ticks(11) + ticks(12)) * 1000.0 / hz
}

/// Percentile of sorted durations in milliseconds (nearest rank).
pub(crate) fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    // `as` saturates (NaN to 0); the clamp below keeps the rank inside the slice.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "clamped next")]
    let rank = ((p / 100.0) * sorted_ms.len() as f64).ceil() as usize;
    sorted_ms[rank.clamp(1, sorted_ms.len()) - 1]
}

/// The password of the benchmarks' accounts: they live only in the bench's temporary stores.
const BENCH_PASSWORD: &str = "bench-only-password";

/// Signs `ws` in as `bench-<role>`, making the store's first administrator and the account when
/// they are missing: benchmarks act through real accounts and the facade's one choke point,
/// as a clinic's users do (issue 12).
pub(crate) async fn sign_in_as(
    ws: &crate::workstation::Workstation,
    role: crate::domain::access::Role,
) -> Result<(), crate::workstation::Error> {
    use crate::workstation::{Error, Secret};
    let secret = || Secret::new(BENCH_PASSWORD.to_owned());
    if !ws.has_users().await? {
        ws.create_first_admin("bench-admin", secret()).await?;
    }
    let name = format!("bench-{}", role.as_str());
    match ws.sign_in(&name, secret()).await {
        Ok(_) => return Ok(()),
        Err(Error::SignInFailed) => {}
        Err(e) => return Err(e),
    }
    ws.sign_in("bench-admin", secret()).await?;
    if role != crate::domain::access::Role::Admin {
        ws.add_user(&name, role, secret()).await?;
        ws.sign_in(&name, secret()).await?;
    }
    Ok(())
}

/// A new encrypted store `name` in `dir`, with its own key file beside it, signed in as a
/// clinician.
pub(crate) async fn bench_store(
    dir: &std::path::Path,
    name: &str,
) -> Result<crate::workstation::Workstation, crate::workstation::Error> {
    let ws = crate::workstation::Workstation::open(crate::workstation::OpenOptions {
        data_dir: dir.join(name),
        key_source: Some(crate::store::KeySource::File(dir.join(format!("{name}.key")))),
        create: true,
        purpose: crate::workstation::StorePurpose::Clinical,
    })
    .await?;
    sign_in_as(&ws, crate::domain::access::Role::Clinician).await?;
    Ok(ws)
}

/// p50, p99 and max of durations in milliseconds, in any order.
pub(crate) fn summary(mut ms: Vec<f64>) -> [f64; 3] {
    ms.sort_by(f64::total_cmp);
    [percentile(&ms, 50.0), percentile(&ms, 99.0), ms.last().copied().unwrap_or(f64::NAN)]
}
