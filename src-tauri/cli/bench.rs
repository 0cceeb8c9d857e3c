//! `vigil bench`: print measured figures.

use clap::Subcommand;

use super::render;
use crate::bench::{AnalysisBenchOptions, StoreBenchOptions, analysis_bench, store_bench};

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Heart-rate straps streaming at 1 Hz through replay links, the device feed and the monitor
    Ble {
        /// Devices streaming at once
        #[arg(long, default_value_t = 50, value_parser = super::args::count(1, 1000))]
        devices: usize,
        /// Seconds to stream
        #[arg(long, default_value_t = 60, value_parser = super::args::count(5, 86_400))]
        seconds: usize,
        /// Measure the feed alone: no monitor pass after each second's commit
        #[arg(long)]
        no_monitor: bool,
    },
    /// Batch-insert observations into SQLCipher and plain SQLite, then read 24 h at 1 Hz
    Store {
        /// Observations to insert into each store
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        rows: u64,
        /// Reads of one patient's last 24 h
        #[arg(long, default_value_t = 40, value_parser = super::args::count(1, 100_000))]
        reads: usize,
    },
    /// Process weights one by one through the encrypted store (state load, Kalman step, save)
    Analysis {
        /// Weights to process
        #[arg(long, default_value_t = 2_000, value_parser = super::args::count(1, 10_000_000))]
        measurements: usize,
        /// Patients to spread them over
        #[arg(long, default_value_t = 20, value_parser = super::args::count(1, 100_000))]
        patients: usize,
    },
    /// The clinician screens' backend on a seeded store (kept in --dir for scripts/bench-ui.sh)
    Ui {
        /// Where the store is (seeded when empty)
        #[arg(long, value_name = "DIR")]
        dir: std::path::PathBuf,
        /// Patients with 24 h of 1 Hz vitals
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=10_000))]
        streamed: u64,
        /// Patients with 90 days of daily data
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
        daily: u64,
    },
    /// Model packages: inference inside an assessment, swap latency seen by readers, install to active
    Models {
        /// Assessments timed per variant
        #[arg(long, default_value_t = 20_000, value_parser = super::args::count(1, 10_000_000))]
        assessments: usize,
        /// Installs timed
        #[arg(long, default_value_t = 10, value_parser = super::args::count(1, 10_000))]
        installs: usize,
    },
    /// The monitor: patients streaming at 1 Hz (CPU per second of data, arrival to alert
    /// visible), weights through the saved filters, and what monitoring adds to a 30-day backlog
    Monitor {
        /// Patients streaming 1 Hz HR, SpO2, RR and RR intervals
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        patients: u64,
        /// Seconds of data
        #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(10..=86_400))]
        seconds: u64,
    },
    /// The FHIR importer on a large Bundle and NDJSON: parse and import records/s, peak memory
    Fhir {
        /// Heart-rate Observations in each file (about 480 bytes each)
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        observations: u64,
    },
    /// Reads while a large import holds the write lock: latency p50/p99 beside an idle store
    Reads {
        /// Rows in the imported CSV
        #[arg(long, default_value_t = 2_000_000, value_parser = clap::value_parser!(u64).range(1_000..=50_000_000))]
        rows: u64,
        /// Reads timed on the idle store, the reference
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        idle_reads: u64,
    },
    /// The agents: one patient's full assessment, many patients at once, a replay of many
    Agents {
        /// Patients assessed concurrently
        #[arg(long, default_value_t = 1_000, value_parser = super::args::count(1, 1_000_000))]
        patients: usize,
        /// Patients replayed
        #[arg(long, default_value_t = 100, value_parser = super::args::count(0, 100_000))]
        replay_patients: usize,
        /// Hours of 1 Hz vitals replayed per patient
        #[arg(long, default_value_t = 24.0, value_parser = super::args::number_in(0.0, 24.0 * 7.0))]
        hours: f64,
    },
}

pub(super) async fn run(cmd: BenchCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Ui { dir, streamed, daily } => {
            eprintln!(
                "store in {} ({streamed} x 24 h at 1 Hz, {daily} x 90 days daily; seeded if empty) ...",
                dir.display()
            );
            let r = crate::bench::ui_bench(&dir, streamed, daily).await?;
            if json {
                return render::json(&r);
            }
            say!("store: {} observations (seeded in {:.0} s)", r.observations, r.seed_s);
            say!(
                "worklist of {} patients (each assessed): p50 {:.0} ms, max {:.0} ms",
                r.streamed + r.daily,
                r.worklist_ms[0],
                r.worklist_ms[1]
            );
            say!("patient screen (no charts): p50 {:.1} ms, p99 {:.1} ms", r.patient_ms[0], r.patient_ms[1]);
            for (range, p50, p99) in &r.charts_ms {
                say!("six charts over {range} (900 px): p50 {p50:.1} ms, p99 {p99:.1} ms (target < 200 ms)");
            }
            say!(
                "reference: 24 h of one vital as full rows ({} rows): p50 {:.1} ms",
                r.full_rows,
                r.full_rows_24h_ms
            );
        }
        BenchCommand::Ble { devices, seconds, no_monitor } => {
            eprintln!(
                "{devices} heart-rate straps at 1 Hz for {seconds} s through the device feed and the monitor ..."
            );
            let r = crate::bench::ble_bench(devices, seconds, !no_monitor).await?;
            if json {
                return render::json(&r);
            }
            say!(
                "{} devices x {} s: {} notifications, {} readings stored",
                r.devices,
                r.seconds,
                r.notifications,
                r.stored
            );
            say!(
                "  CPU: {:.1} % of one core{} (target < 5 % for 50 devices)",
                r.cpu_percent_of_core,
                if r.monitor { ", with a monitor pass after each second" } else { ", the feed alone" }
            );
            let [c50, c99, cmax] = r.arrival_to_commit_ms;
            say!(
                "  notification to committed: p50 {c50:.0} ms, p99 {c99:.0} ms, max {cmax:.0} ms (target p99 < 1500 ms)"
            );
            let [a50, a99, amax] = r.arrival_to_assessed_ms;
            say!(
                "  notification to assessed (the monitor pass after it committed): p50 {a50:.0} ms, p99 {a99:.0} ms, max {amax:.0} ms"
            );
            say!("  reference: decoding alone, {:.2} µs a notification", r.decode_us);
        }
        BenchCommand::Monitor { patients, seconds } => {
            eprintln!("{patients} patients x {seconds} s at 1 Hz, then weights, then a 30-day backlog ...");
            let (patients, seconds) = (usize::try_from(patients)?, usize::try_from(seconds)?);
            let r = crate::bench::monitor_bench(patients, seconds).await?;
            if json {
                return render::json(&r);
            }
            say!("{} patients streaming 1 Hz HR, SpO2, RR and RR intervals for {} s:", r.patients, r.seconds);
            say!(
                "  per second of data: {:.1} ms wall ({:.1} ms of it storing the batch), {:.1} ms CPU = {:.1} % of one core",
                r.wall_per_second_ms,
                r.store_per_second_ms,
                r.cpu_per_second_ms,
                r.cpu_per_second_ms / 10.0
            );
            let [v50, v99, vmax] = r.arrival_to_visible_ms;
            say!("  arrival to assessed and visible: p50 {v50:.0} ms, p99 {v99:.0} ms, max {vmax:.0} ms");
            let [a50, a99, n] = r.arrival_to_alert_ms;
            say!(
                "  arrival to alert visible: p50 {a50:.0} ms, p99 {a99:.0} ms over {n} seconds that alerted (target p99 < 1 s)"
            );
            say!(
                "  alerts: {} for the deteriorating patients; {:.2} per patient-day for the stable ones",
                r.alerts_deteriorating,
                r.stable_alerts_per_patient_day
            );
            say!(
                "weights: {:.3} ms each, {} batched in one pass (target p99 < 1 ms); process_weight one transaction each: p50 {:.3} ms, p99 {:.3} ms",
                r.batched_weight_ms,
                r.batched_weights,
                r.single_weight_ms[0],
                r.single_weight_ms[1]
            );
            say!(
                "30-day backlog, 20 patients, spot vitals every 15 min + daily weight ({} rows): import {:.1} s, import and monitor {:.1} s (+{:.0} %; target <= 20 %)",
                r.backlog_rows,
                r.backlog_import_s,
                r.backlog_import_and_monitor_s,
                (r.backlog_import_and_monitor_s / r.backlog_import_s - 1.0) * 100.0
            );
        }
        BenchCommand::Fhir { observations } => {
            eprintln!(
                "writing a Bundle and an NDJSON file of {observations} heart rates, parsing, importing ..."
            );
            let r = crate::bench::fhir_bench(observations).await?;
            if json {
                return render::json(&r);
            }
            let mib = |m: Option<f64>| m.map_or("n/a".to_owned(), |m| format!("{m:.0} MiB"));
            for (name, f) in [("Bundle", &r.bundle), ("NDJSON", &r.ndjson)] {
                say!("{name} of {} Observations, {:.0} MiB:", r.observations, f.file_mib);
                say!(
                    "  parse alone: {:.1} s, {:.0} records/s, {:.0} MiB/s; peak memory +{}",
                    f.parse_s,
                    f.parse_records_per_s,
                    f.parse_mib_per_s,
                    mib(f.parse_peak_mib)
                );
                say!(
                    "  import into the encrypted store: {:.1} s, {:.0} records/s ({} accepted); peak memory +{}",
                    f.import_s,
                    f.import_records_per_s,
                    f.accepted,
                    mib(f.import_peak_mib)
                );
            }
        }
        BenchCommand::Reads { rows, idle_reads } => {
            eprintln!("importing {rows} rows twice (alone, then while a clinician reads) ...");
            let idle_reads = usize::try_from(idle_reads).map_err(|_| {
                anyhow::anyhow!("--idle-reads {idle_reads}: more than this machine can count")
            })?;
            let r = crate::bench::reads_bench(rows, idle_reads).await?;
            if json {
                return render::json(&r);
            }
            let [a, b, c] = r.idle_ms;
            let [d, e, f] = r.during_import_ms;
            say!("read of one hour of 1 Hz heart rate (3,600 rows, audited):");
            say!("  idle store:         p50 {a:.1} ms, p99 {b:.1} ms, max {c:.1} ms");
            say!(
                "  during the import:  p50 {d:.1} ms, p99 {e:.1} ms, max {f:.1} ms over {} reads, {} failed (target p99 < 200 ms, 0 failed)",
                r.reads_during_import,
                r.failed_reads
            );
            say!(
                "import of {} rows: {:.1} s alone, {:.1} s with the reads ({:.0} rows/s alone)",
                r.rows,
                r.import_alone_s,
                r.import_with_reads_s,
                r.rows as f64 / r.import_alone_s
            );
        }
        BenchCommand::Models { assessments, installs } => {
            eprintln!("timing {assessments} assessments, 1.5 s of readers twice, {installs} installs ...");
            let r = crate::bench::models_bench(assessments, installs).await?;
            if json {
                return render::json(&r);
            }
            say!(
                "early-warning finding with its model: p50 {:.4} ms, p99 {:.4} ms; rules alone p50 {:.4} ms, p99 {:.4} ms",
                r.with_model_p50_ms,
                r.with_model_p99_ms,
                r.rules_p50_ms,
                r.rules_p99_ms
            );
            say!("model score call alone: p50 {:.4} ms, p99 {:.4} ms", r.score_p50_ms, r.score_p99_ms);
            let [a, b, c] = r.readers_swapping_ms;
            let [d, e, f] = r.readers_quiet_ms;
            say!(
                "4 readers during {} swaps: p50 {a:.4} ms, p99 {b:.4} ms, max {c:.3} ms; without swaps p50 {d:.4}, p99 {e:.4}, max {f:.3} ms",
                r.swaps
            );
            say!("swap call: p50 {:.4} ms, p99 {:.4} ms", r.swap_call_ms[0], r.swap_call_ms[1]);
            say!(
                "install to active (verify, load, warm up, test vectors, store): p50 {:.1} ms, max {:.1} ms over {}",
                r.install_p50_ms,
                r.install_max_ms,
                r.installs
            );
        }
        BenchCommand::Agents { patients, replay_patients, hours } => {
            let options = crate::bench::AgentsBenchOptions {
                concurrent: patients,
                replay_patients,
                replay_hours: hours,
                ..Default::default()
            };
            eprintln!(
                "assessing one patient, then {patients} at once, then replaying {replay_patients} x {hours} h ..."
            );
            let r = crate::bench::agents_bench(&options).await;
            if json {
                return render::json(&r);
            }
            say!(
                "single patient, {} specialties: p50 {:.3} ms, p99 {:.3} ms (target p99 < 2 ms)",
                r.single_specialties,
                r.single_p50_ms,
                r.single_p99_ms
            );
            say!(
                "{} patients concurrently: {:.0} assessments/s, p50 {:.2} ms, p99 {:.2} ms",
                r.concurrent_patients,
                r.concurrent_per_s,
                r.concurrent_p50_ms,
                r.concurrent_p99_ms
            );
            say!(
                "replay {} patients x {} h at 1 Hz: {} samples, {} assessments, {} alerts ({} of {} deteriorating alerted, {} for stable patients) in {:.1} s",
                r.replay_patients,
                r.replay_hours,
                r.replay_samples,
                r.replay_assessments,
                r.replay_alerts,
                r.replay_deteriorating_alerted,
                r.replay_deteriorating,
                r.replay_stable_alerts,
                r.replay_seconds
            );
        }
        BenchCommand::Store { rows, reads } => {
            let options = StoreBenchOptions { rows, reads, ..StoreBenchOptions::default() };
            eprintln!("inserting {rows} observations into SQLCipher, then into plain SQLite ...");
            let r = store_bench(&options).await?;
            if json {
                return render::json(&r);
            }
            say!(
                "store benchmark: {} rows, {} per transaction, 1 Hz heart rate over {} patients",
                r.rows,
                options.rows_per_transaction,
                options.patients
            );
            say!(
                "{:<10} {:>14} {:>10} {:>12} {:>12} {:>10}",
                "",
                "insert rows/s",
                "seconds",
                "read p50 ms",
                "read p99 ms",
                "size"
            );
            for (name, f) in [("sqlcipher", &r.sqlcipher), ("plain", &r.plain)] {
                say!(
                    "{:<10} {:>14.0} {:>10.2} {:>12.1} {:>12.1} {:>10}",
                    name,
                    f.insert_rows_per_s,
                    f.insert_seconds,
                    f.read_p50_ms,
                    f.read_p99_ms,
                    render::human_bytes(f.size_bytes)
                );
            }
            say!(
                "insert ratio sqlcipher/plain: {:.2} (target >= 0.70); sqlcipher rows/s target >= 200000",
                r.insert_ratio
            );
            say!(
                "read: {} rows per 24 h read; p50 plain/sqlcipher: {:.2}",
                r.sqlcipher.read_rows,
                r.read_ratio
            );
        }
        BenchCommand::Analysis { measurements, patients } => {
            let options = AnalysisBenchOptions { measurements, patients, ..AnalysisBenchOptions::default() };
            eprintln!("processing {measurements} weights through a new encrypted store ...");
            let r = analysis_bench(&options).await?;
            if json {
                return render::json(&r);
            }
            say!(
                "process one measurement (state load, Kalman step, state + result save, audit; SQLCipher, synchronous=FULL):"
            );
            say!(
                "  {} measurements over {} patients ({} rejected): p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms, {:.0}/s",
                r.measurements,
                r.patients,
                r.rejected,
                r.p50_ms,
                r.p90_ms,
                r.p99_ms,
                r.max_ms,
                r.per_second
            );
            say!("  targets: p99 < 1 ms (issue 4), < 100 ms (reference design)");
            say!(
                "in memory, for reference: {:.2} million filter steps/s on one core",
                r.memory_steps_per_s / 1e6
            );
        }
    }
    Ok(())
}
