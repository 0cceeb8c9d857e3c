//! File import: a pure parser on a blocking thread feeds records through a bounded channel to
//! one store transaction per file. A file commits all its accepted records, or (on an I/O error,
//! a broken structure or a cancel) none of them; bad records are reported and never stop the
//! good ones. Memory stays flat whatever the file size: records travel in chunks, and the
//! rejection list is capped (the count is not).

use crate::domain::access::Operation;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use tokio::sync::mpsc;

use super::{Error, Workstation, identity};
use crate::domain::{NewObservation, PatientId, PatientRef, SourceKind};
use crate::ingest::{self, Format, Location, ParseError, ParsedPatient, ParsedRecord, RecordSink, Rejection};
use crate::store::{InsertReport, StoreError};

/// Records per chunk sent from the parser to the store.
const CHUNK: usize = 5_000;
/// Rejections kept in a report; beyond this only the count grows.
const MAX_REJECTIONS_LISTED: usize = 10_000;
/// Characters of one rejection's reason (and element) kept in a report.
const MAX_REJECTION_CHARS: usize = 500;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The patient for records whose file does not name one.
    pub patient: Option<PatientRef>,
    /// The format; detected from the name and first bytes when `None`.
    pub format: Option<Format>,
    /// Parse, resolve and count, then roll back: nothing is stored.
    pub dry_run: bool,
    /// For a FIT weight-scale file shared by several users: the `user_profile_index` to import.
    pub fit_user: Option<u16>,
}

/// Progress of one file, for a progress bar or the desktop's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportProgress {
    /// Bytes of the file read so far.
    pub bytes_read: u64,
    /// The file's size.
    pub bytes_total: u64,
    /// Records accepted so far.
    pub records: u64,
}

/// Cancels an import from another task or thread; the file's records are then not committed.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// Asks the import to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether a stop was asked.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What importing one file did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The file name.
    pub file: String,
    /// The format used.
    pub format: Format,
    /// Valid records: new ones plus those already stored.
    pub accepted: u64,
    /// Accepted records that were already in the store (nothing changed for them).
    pub duplicates: u64,
    /// New observations stored (`accepted - duplicates`; 0 on a dry run).
    pub added: u64,
    /// Rejected records with where and why (at most 10,000 listed).
    pub rejected: Vec<Rejection>,
    /// All rejected records, listed or not.
    pub rejected_total: u64,
    /// Accepted records by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Patients created from the file's own patient records (FHIR Patient resources).
    pub patients_created: u64,
    /// Nothing was stored.
    pub dry_run: bool,
    /// Alerts the monitor raised on what this file added ([`Workstation::import_and_monitor`]).
    #[serde(default)]
    pub alerts: Vec<super::RaisedAlert>,
}

enum Message {
    Records(Vec<ParsedRecord>),
    Patient(ParsedPatient),
}

/// The parser's sink: chunks records to the store task, keeps rejections, honours cancel.
struct ChannelSink {
    tx: mpsc::Sender<Message>,
    chunk: Vec<ParsedRecord>,
    rejected: Vec<Rejection>,
    rejected_total: u64,
    cancel: CancelToken,
}

impl ChannelSink {
    fn flush(&mut self) -> ControlFlow<()> {
        if self.chunk.is_empty() {
            return ControlFlow::Continue(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        // The receiver is gone only when the store side failed: stop parsing.
        match self.tx.blocking_send(Message::Records(chunk)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }
}

impl RecordSink for ChannelSink {
    fn record(&mut self, record: ParsedRecord) -> ControlFlow<()> {
        if self.cancel.is_cancelled() {
            return ControlFlow::Break(());
        }
        self.chunk.push(record);
        if self.chunk.len() >= CHUNK { self.flush() } else { ControlFlow::Continue(()) }
    }

    fn reject(&mut self, mut rejection: Rejection) -> ControlFlow<()> {
        self.rejected_total += 1;
        if self.rejected.len() < MAX_REJECTIONS_LISTED {
            cap_chars(&mut rejection.reason);
            if let Some(element) = &mut rejection.location.element {
                cap_chars(element);
            }
            self.rejected.push(rejection);
        }
        if self.cancel.is_cancelled() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }

    fn keep_going(&mut self) -> ControlFlow<()> {
        if self.cancel.is_cancelled() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }

    fn patient(&mut self, patient: ParsedPatient) -> ControlFlow<()> {
        // Records before a patient were sent first, so order is kept.
        self.flush()?;
        match self.tx.blocking_send(Message::Patient(patient)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }
}

/// Cuts a rejection's text to [`MAX_REJECTION_CHARS`]: parsers already shorten the values they
/// echo, and this bounds what any one rejection can add to a report whatever a parser wrote.
fn cap_chars(text: &mut String) {
    if let Some((end, _)) = text.char_indices().nth(MAX_REJECTION_CHARS) {
        text.truncate(end);
        text.push('…');
    }
}

/// Counts bytes as the parser reads them.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let at = self.inner.seek(pos)?;
        self.read.store(at, Ordering::Relaxed);
        Ok(at)
    }
}

type ParseOutcome = (Result<(), ParseError>, Vec<Rejection>, u64);

impl Workstation {
    /// Imports one file. See the module documentation for what commits when.
    pub async fn import_file(
        &self,
        path: &Path,
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
        cancel: &CancelToken,
    ) -> Result<ImportReport, Error> {
        self.authorize(Operation::Import).await?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let io = |e: std::io::Error| Error::Import(format!("{}: {e}", path.display()));
        let metadata = std::fs::metadata(path).map_err(io)?;
        if !metadata.is_file() {
            // A device (/dev/zero), a FIFO or a directory never ends or is not a file at all.
            return Err(Error::Import(format!(
                "{}: not a regular file (a directory, device or pipe); only files can be imported",
                path.display()
            )));
        }
        let bytes_total = metadata.len();
        let format = match options.format {
            Some(format) => format,
            None => {
                let mut head = vec![0u8; 4096];
                let n = std::fs::File::open(path).map_err(io)?.read(&mut head).map_err(io)?;
                ingest::detect(&file_name, &head[..n])
                    .map_err(|e| Error::Import(format!("{}: {e}", path.display())))?
            }
        };
        if bytes_total > max_bytes(format) {
            return Err(Error::Import(format!(
                "{}: {} is larger than the {} MiB a {} file may have",
                path.display(),
                mib(bytes_total),
                max_bytes(format) >> 20,
                format.as_str()
            )));
        }
        let bounds = self.time_bounds().await?;
        let sha256 = hash_file(path).await.map_err(io)?;
        let source = SourceKind::File { name: file_name.clone(), sha256 };

        let mut tx = self.store.begin().await?;
        let default_patient = match &options.patient {
            Some(reference) => Some(
                crate::store::find_patient(&mut *tx, reference)
                    .await?
                    .map(|p| (p.id, p.birth_date, p.consent.monitoring))
                    .ok_or_else(|| Error::PatientNotFound(reference.clone()))?,
            ),
            None => None,
        };

        let (sender, mut receiver) = mpsc::channel::<Message>(4);
        let read = Arc::new(AtomicU64::new(0));
        let parser = {
            let (path, file_name, read, cancel) =
                (path.to_owned(), file_name.clone(), read.clone(), cancel.clone());
            let parse_options = ingest::ParseOptions {
                fit: ingest::fit::FitOptions { user_profile_index: options.fit_user },
            };
            tokio::task::spawn_blocking(move || -> ParseOutcome {
                let mut sink = ChannelSink {
                    tx: sender,
                    chunk: Vec::with_capacity(CHUNK),
                    rejected: Vec::new(),
                    rejected_total: 0,
                    cancel,
                };
                let result = std::fs::File::open(&path)
                    .map_err(|source| ParseError::Io { file: file_name.clone(), source })
                    .and_then(|file| {
                        let reader = BufReader::with_capacity(1 << 20, Counting { inner: file, read });
                        ingest::parse_with(format, &file_name, reader, &parse_options, &mut sink)
                    });
                let result = match (result, sink.flush()) {
                    (Ok(()), ControlFlow::Break(())) => Err(ParseError::Cancelled),
                    (other, _) => other,
                };
                (result, sink.rejected, sink.rejected_total)
            })
        };

        let mut report = ImportReport {
            file: file_name.clone(),
            format,
            accepted: 0,
            duplicates: 0,
            added: 0,
            rejected: Vec::new(),
            rejected_total: 0,
            by_kind: BTreeMap::new(),
            patients_created: 0,
            dry_run: options.dry_run,
            alerts: Vec::new(),
        };
        // Each patient named: id, birth date, monitoring consent.
        let mut patients: HashMap<PatientRef, Option<(PatientId, Option<NaiveDate>, bool)>> = HashMap::new();
        // The file's Patients wait here until its first records (FHIR sends every Patient
        // first), so that two Patients claiming one MRN are seen together (identity.rs).
        let mut described: Vec<ParsedPatient> = Vec::new();
        let mut settled = false;
        let mut held = Held::default();
        let mut unresolved: BTreeMap<String, u64> = BTreeMap::new();
        let mut inserted = InsertReport::default();
        let mut touched: std::collections::BTreeSet<PatientId> = Default::default();
        let now = Utc::now();
        let mut store_error = None;
        let mut finished = false;
        while !finished {
            let message = receiver.recv().await;
            let step = async {
                let records = match message {
                    Some(Message::Patient(p)) => {
                        described.push(p);
                        return Ok::<(), Error>(());
                    }
                    Some(Message::Records(records)) => records,
                    None => {
                        finished = true;
                        Vec::new()
                    }
                };
                if !settled {
                    settled = true;
                    let outcome =
                        identity::settle(&mut tx, std::mem::take(&mut described), &self.actor_name(), now)
                            .await?;
                    for created in &outcome.created {
                        self.audit_id(
                            &mut tx,
                            "patient.create",
                            Some(*created),
                            serde_json::json!({ "source": "import" }),
                        )
                        .await?;
                    }
                    report.patients_created += outcome.created.len() as u64;
                    for (mrn, reason) in outcome.refused {
                        report.rejected_total += 1;
                        report.rejected.push(Rejection {
                            location: Location::element(&file_name, format!("Patient {mrn}")),
                            reason: reason.clone(),
                        });
                        held.mrns.insert(mrn, reason);
                    }
                }
                if records.is_empty() {
                    return Ok(());
                }
                let mut batch = Vec::with_capacity(records.len());
                for record in records {
                    let found = match &record.patient {
                        None => default_patient,
                        Some(reference) => {
                            if let PatientRef::Mrn(mrn) = reference
                                && held.mrns.contains_key(mrn)
                            {
                                *held.records.entry(mrn.clone()).or_default() += 1;
                                continue;
                            }
                            match patients.get(reference) {
                                Some(found) => *found,
                                None => {
                                    let found = crate::store::find_patient(&mut *tx, reference)
                                        .await?
                                        .map(|p| (p.id, p.birth_date, p.consent.monitoring));
                                    patients.insert(reference.clone(), found);
                                    found
                                }
                            }
                        }
                    };
                    let Some((id, born, monitoring)) = found else {
                        let who = record
                            .patient
                            .as_ref()
                            .map(|r| r.to_string())
                            .unwrap_or_else(|| "no patient".into());
                        *unresolved.entry(who).or_default() += 1;
                        continue;
                    };
                    // Issue 12: nothing is stored for a patient without monitoring consent.
                    let checked = if monitoring {
                        bounds
                            .check(record.effective, born)
                            .map_err(|problem| crate::domain::InvalidField::new("time", problem).to_string())
                    } else {
                        Err(format!("patient {id} has not consented to monitoring"))
                    }
                    .and_then(|()| {
                        NewObservation::new(id, record.kind, record.value, record.effective)
                            .map_err(|e| e.to_string())
                    });
                    match checked {
                        Ok(obs) => {
                            *report.by_kind.entry(record.kind.as_str().to_owned()).or_default() += 1;
                            touched.insert(id);
                            batch.push(obs);
                        }
                        Err(e) => {
                            report.rejected_total += 1;
                            if report.rejected.len() < MAX_REJECTIONS_LISTED {
                                let element =
                                    format!("{} at {}", record.kind.as_str(), record.effective.to_rfc3339());
                                report.rejected.push(Rejection {
                                    location: Location::element(&file_name, element),
                                    reason: e,
                                });
                            }
                        }
                    }
                }
                report.accepted += batch.len() as u64;
                inserted.add(crate::store::insert_observations(&mut tx, &source, &batch, now).await?);
                progress(ImportProgress {
                    bytes_read: read.load(Ordering::Relaxed).min(bytes_total),
                    bytes_total,
                    records: report.accepted,
                });
                Ok(())
            };
            if let Err(e) = step.await {
                store_error = Some(e);
                break;
            }
        }
        drop(receiver); // a parser still sending sees the store side has stopped
        let (parsed, rejected, rejected_total) = parser.await.map_err(|e| Error::Internal(e.to_string()))?;
        if let Some(e) = store_error {
            return Err(e); // the transaction rolls back when dropped
        }
        match parsed {
            Ok(()) => {}
            Err(ParseError::Cancelled) => return Err(Error::Cancelled(file_name)),
            Err(e) => return Err(Error::Import(e.to_string())),
        }
        for (who, count) in unresolved {
            report.rejected_total += count;
            report.rejected.push(Rejection {
                location: Location::element(&file_name, format!("{count} records for {who}")),
                reason: if who == "no patient" {
                    "the file does not say whose records these are: pass --patient".into()
                } else {
                    format!(
                        "{who} is named by these records but is neither in this file nor in this store: \
                         not stored (--patient applies only to records that name nobody); add the \
                         patient first, or import their FHIR Patient"
                    )
                },
            });
        }
        for (mrn, count) in held.records {
            report.rejected_total += count;
            let reason = held.mrns.get(&mrn).cloned().unwrap_or_default();
            report.rejected.push(Rejection {
                location: Location::element(&file_name, format!("{count} records for MRN {mrn}")),
                reason: format!("held for review, not stored: {reason}"),
            });
        }
        report.rejected_total += rejected_total;
        report.rejected.extend(rejected);
        report.rejected.truncate(MAX_REJECTIONS_LISTED);
        report.duplicates = inserted.duplicates;
        report.added = inserted.inserted;
        progress(ImportProgress { bytes_read: bytes_total, bytes_total, records: report.accepted });
        if options.dry_run {
            report.added = 0;
            tx.rollback().await.map_err(StoreError::from)?;
            // Nothing was stored, but patients were looked up and their records read: audited.
            for patient in touched {
                let detail = serde_json::json!({ "format": format.as_str(), "dry_run": true });
                self.audit_read_id("observations.import_dry_run", Some(patient), detail).await;
            }
            return Ok(report);
        }
        for patient in touched {
            let detail = serde_json::json!({
                "source": "file", "format": format.as_str(), "added": report.added, "duplicates": report.duplicates,
            });
            self.audit_id(&mut tx, "observations.import", Some(patient), detail).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(
            format = format.as_str(),
            added = report.added,
            duplicates = report.duplicates,
            rejected = report.rejected_total,
            "imported a file"
        );
        Ok(report)
    }
}

/// Records held back because their patient's identity conflicts (identity.rs).
#[derive(Debug, Default)]
struct Held {
    /// MRN to the reason its Patient was refused.
    mrns: HashMap<String, String>,
    /// MRN to the number of records held.
    records: BTreeMap<String, u64>,
}

/// The largest file of each format that is read: a FIT file is read whole; CSV, FHIR (one
/// resource at a time, issue 12) and Apple Health exports are streamed.
fn max_bytes(format: Format) -> u64 {
    match format {
        Format::Fit => 64 << 20,
        Format::Csv | Format::Fhir | Format::AppleHealth => 64 << 30,
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

impl Workstation {
    /// Imports one file, then runs the monitor over what it added (and anything else that
    /// arrived since the last pass): the report lists the alerts raised. A dry run monitors
    /// nothing. Importing the same file again adds nothing, so it raises nothing.
    pub async fn import_and_monitor(
        &self,
        path: &Path,
        options: &ImportOptions,
        orchestrator: &crate::agents::Orchestrator,
        monitor: &mut super::Monitor,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
        cancel: &CancelToken,
    ) -> Result<ImportReport, Error> {
        self.authorize(Operation::Import).await?;
        let mut report = self.import_file(path, options, progress, cancel).await?;
        if !options.dry_run {
            report.alerts = self.monitor_pass(orchestrator, monitor).await?.alerts;
        }
        Ok(report)
    }
}

/// SHA-256 of the file: the source's identity, so a re-import maps to the same source.
async fn hash_file(path: &Path) -> std::io::Result<String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path)?;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            ctx.update(&buf[..n]);
        }
        Ok(hex::encode(ctx.finish().as_ref()))
    })
    .await
    .map_err(std::io::Error::other)?
}
