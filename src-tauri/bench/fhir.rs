//! The FHIR importer on large files (issue 12): a Bundle of `observations` heart rates whose
//! Patient is the last entry (so the importer must find it before reporting the first reading),
//! and the same resources as NDJSON. For each file: the parse alone (records/s, MiB/s, peak
//! memory above the start) and `import_file` into a fresh encrypted store (records/s end to end,
//! peak memory). Peak memory is the process's high-water mark (`VmHWM`), reset before each
//! measure by writing 5 to `/proc/self/clear_refs` (proc(5), Linux 4.0+); `None` elsewhere.

use std::io::{BufReader, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::bench_store;
use crate::ingest::{Format, ParseError, ParsedPatient, ParsedRecord, RecordSink, Rejection};
use crate::workstation::{CancelToken, Error, ImportOptions};

/// The figures for one file.
#[derive(Debug, Clone, Serialize)]
pub struct FhirFigures {
    /// The file's size, MiB.
    pub file_mib: f64,
    /// Parse alone: seconds, records/s, MiB/s of file.
    pub parse_s: f64,
    /// Parse alone: records/s.
    pub parse_records_per_s: f64,
    /// Parse alone: MiB of file per second.
    pub parse_mib_per_s: f64,
    /// Parse alone: how far the peak resident size rose above the start, MiB.
    pub parse_peak_mib: Option<f64>,
    /// Import into the encrypted store: seconds.
    pub import_s: f64,
    /// Import: records accepted per second, end to end.
    pub import_records_per_s: f64,
    /// Import: how far the peak resident size rose above the start, MiB.
    pub import_peak_mib: Option<f64>,
    /// Records the import accepted (must be `observations`).
    pub accepted: u64,
}

/// `vigil bench fhir`.
#[derive(Debug, Clone, Serialize)]
pub struct FhirBenchReport {
    /// Observations in each file.
    pub observations: u64,
    /// One Bundle (`collection`), one entry per line.
    pub bundle: FhirFigures,
    /// NDJSON, one resource per line.
    pub ndjson: FhirFigures,
}

const PATIENT_URL: &str = "urn:uuid:5f1d6c2e-0000-4000-8000-00000000b16";
const PATIENT: &str = r#"{"resourceType":"Patient","id":"bench","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"value":"BENCH-FHIR"}],"name":[{"use":"official","family":"Fhir","given":["Bench"]}],"birthDate":"1950-01-01","gender":"female"}"#;

/// Heart rate `i`, one a second from 2024-01-01, for the Patient named by `subject`.
fn observation(i: u64, subject: &str) -> String {
    let (day, h, m, s) = (1 + (i / 86_400) % 28, (i / 3600) % 24, (i / 60) % 60, i % 60);
    format!(
        r#"{{"resourceType":"Observation","id":"hr-{i}","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}}]}},"subject":{{"reference":"{subject}"}},"effectiveDateTime":"2024-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z","valueQuantity":{{"value":{v},"unit":"beats/minute","system":"http://unitsofmeasure.org","code":"/min"}}}}"#,
        month = 1 + (i / (86_400 * 28)) % 12,
        v = 50 + i % 60,
    )
}

/// Writes a Bundle (`ndjson == false`) or NDJSON of `n` heart rates, the Patient last.
pub fn write_fhir_file(path: &Path, n: u64, ndjson: bool) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    if ndjson {
        for i in 0..n {
            writeln!(out, "{}", observation(i, "Patient/bench"))?;
        }
        writeln!(out, "{PATIENT}")?;
    } else {
        out.write_all(
            b"{\"resourceType\":\"Bundle\",\"id\":\"bench\",\"type\":\"collection\",\"entry\":[\n",
        )?;
        for i in 0..n {
            writeln!(
                out,
                "{{\"fullUrl\":\"urn:uuid:obs-{i}\",\"resource\":{}}},",
                observation(i, PATIENT_URL)
            )?;
        }
        writeln!(out, "{{\"fullUrl\":\"{PATIENT_URL}\",\"resource\":{PATIENT}}}]}}")?;
    }
    out.flush()
}

/// Counts, holding nothing.
#[derive(Debug, Default)]
struct Counts {
    records: u64,
}

impl RecordSink for Counts {
    fn record(&mut self, _: ParsedRecord) -> ControlFlow<()> {
        self.records += 1;
        ControlFlow::Continue(())
    }
    fn reject(&mut self, _: Rejection) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn patient(&mut self, _: ParsedPatient) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the high-water mark; the resident size now.
fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

fn peak_mib(start_kib: Option<u64>) -> Option<f64> {
    Some(status_kib("VmHWM:")?.saturating_sub(start_kib?) as f64 / 1024.0)
}

async fn measure(dir: &Path, name: &str, n: u64, ndjson: bool) -> Result<FhirFigures, Error> {
    let path = dir.join(name);
    let io = |e: std::io::Error| Error::Internal(format!("{}: {e}", path.display()));
    write_fhir_file(&path, n, ndjson).map_err(io)?;
    let file_mib = std::fs::metadata(&path).map_err(io)?.len() as f64 / f64::from(1 << 20);

    let start = reset_peak();
    let started = Instant::now();
    let mut counts = Counts::default();
    let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&path).map_err(io)?);
    crate::ingest::parse(Format::Fhir, name, reader, &mut counts)
        .map_err(|e: ParseError| Error::Import(e.to_string()))?;
    let parse_s = started.elapsed().as_secs_f64();
    let parse_peak_mib = peak_mib(start);
    if counts.records != n {
        return Err(Error::Internal(format!("{name}: parsed {} records of {n}", counts.records)));
    }

    let ws = bench_store(dir, &format!("store-{name}")).await?;
    let start = reset_peak();
    let started = Instant::now();
    let report = ws.import_file(&path, &ImportOptions::default(), &|_| {}, &CancelToken::default()).await?;
    let import_s = started.elapsed().as_secs_f64();
    let import_peak_mib = peak_mib(start);
    Ok(FhirFigures {
        file_mib,
        parse_s,
        parse_records_per_s: n as f64 / parse_s,
        parse_mib_per_s: file_mib / parse_s,
        parse_peak_mib,
        import_s,
        import_records_per_s: report.accepted as f64 / import_s,
        import_peak_mib,
        accepted: report.accepted,
    })
}

/// Runs both files in a temporary directory.
pub async fn fhir_bench(observations: u64) -> Result<FhirBenchReport, Error> {
    let dir = tempfile::tempdir().map_err(|e| Error::Internal(format!("temporary directory: {e}")))?;
    let bundle = measure(dir.path(), "bench-bundle.json", observations, false).await?;
    let ndjson = measure(dir.path(), "bench.ndjson", observations, true).await?;
    Ok(FhirBenchReport { observations, bundle, ndjson })
}
