//! What the clinician's screens show, as flat read models: the worklist, the patient, the
//! charts, the alerts inbox, the agents and models. Built by the facade from lean reads
//! (`store::series`), each call audited in its transaction (invariant 6). The desktop window
//! sends them as they are; their TypeScript types are generated from these (tauri-specta), so
//! there is no hand-written copy. Times are UTC epoch milliseconds as `f64` (exact below 2^53).

mod chart;
mod convert;
mod inbox;
mod patient;
mod watch;
pub(crate) mod worklist;

pub use chart::{ChartKind, ChartRequest, ChartView};
pub use convert::{
    AgentsView, CandidateView, InstanceView, ModelEventView, PackageRowView, PoolView, agents_view,
    alert_view,
};
pub use inbox::{AlertsInbox, INBOX_PAGE_MAX, InboxRequest, StatusCounts};
pub use watch::{AlertWatch, BANNER_MAX, CriticalAlert, escalations_due, is_escalated};
pub(crate) use worklist::RECORDED_NEWS2_KINDS;
pub use worklist::sort_by_risk;

/// Derives the TypeScript type in desktop builds.
macro_rules! view {
    ($(#[$m:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[cfg_attr(feature = "desktop", derive(specta::Type))]
        pub struct $name { $($body)* }
    };
}
pub(crate) use view;

view! {
    /// The latest value of one vital sign.
    pub struct VitalReading {
        /// The observation kind (`heart_rate`, `spo2`, ...).
        pub kind: String,
        /// For the screen ("Heart rate").
        pub label: String,
        /// UCUM unit.
        pub unit: String,
        /// The value.
        pub value: f64,
        /// When, UTC ms.
        pub at_ms: f64,
    }
}

view! {
    /// NEWS2 from the latest values (RCP 2017).
    pub struct News2View {
        /// 0-20.
        pub aggregate: u32,
        /// `low`, `low_medium`, `medium`, `high`.
        pub band: String,
        /// The chart's response ("urgent_ward_based", ...).
        pub response: String,
        /// A single parameter scored 3.
        pub urgent_review: bool,
        /// Each parameter: name, charted value, score.
        pub parameters: Vec<News2Parameter>,
        /// What was assumed (consciousness not assessed, air).
        pub assumptions: Vec<String>,
    }
}

view! {
    /// One NEWS2 parameter.
    pub struct News2Parameter {
        /// Its name.
        pub name: String,
        /// The charted value.
        pub value: f64,
        /// 0-3.
        pub score: u32,
    }
}

view! {
    /// One worklist row.
    pub struct WorklistRow {
        /// Patient id.
        pub patient_id: String,
        /// MRN.
        pub mrn: String,
        /// Name.
        pub name: String,
        /// The latest vitals.
        pub latest: Vec<VitalReading>,
        /// NEWS2, when all five measured parameters have a value.
        pub news2: Option<News2View>,
        /// The assessment's overall risk, 0-1.
        pub risk_score: f64,
        /// Its band.
        pub risk_level: String,
        /// Its event, if any.
        pub event: Option<String>,
        /// The code of the finding that drives it.
        pub top_finding: Option<String>,
        /// New or acknowledged alerts.
        pub open_alerts: u32,
        /// The newest observation, UTC ms.
        pub last_data_ms: Option<f64>,
        /// Specialties that could not answer: the patient needs a clinician's review, and sorts
        /// above every low-risk patient whatever the others scored (unknown never looks safe).
        pub needs_review: Vec<String>,
        /// Where the risk came from: `stored` (the monitor's latest assessment, which covers the
        /// latest data), `now` (assessed for this screen), `none` (no data), `no_consent` (no
        /// monitoring consent: not assessed) or `restricted` (a restricted record this user has
        /// not opened: only who it is and its open alert count are shown, no values, risk or
        /// alert text; opening it needs break-the-glass).
        pub assessed: String,
    }
}

view! {
    /// The worklist, highest risk first.
    pub struct Worklist {
        /// Rows.
        pub rows: Vec<WorklistRow>,
        /// A DEMO store.
        pub demo: bool,
        /// Time to build it, ms.
        pub took_ms: f64,
    }
}

view! {
    /// A piece of evidence.
    pub struct EvidenceView {
        /// Feature.
        pub feature: String,
        /// Value.
        pub value: f64,
        /// Threshold.
        pub threshold: f64,
        /// `<`, `>=`, ...
        pub comparison: String,
        /// Fired.
        pub triggered: bool,
        /// Source.
        pub source: String,
    }
}

view! {
    /// One specialty's finding.
    pub struct FindingView {
        /// Code.
        pub code: String,
        /// Specialty.
        pub specialty: String,
        /// Band.
        pub risk_level: String,
        /// 0-1.
        pub risk_score: f64,
        /// 0-1.
        pub confidence: f64,
        /// `Rules`, `Model early-warning-gbt 1.0.0`, `Fallback`.
        pub method: String,
        /// The model is a demonstration model, not for clinical use.
        pub demonstration_model: bool,
        /// How it was reached (rules only because..., inputs imputed).
        pub note: Option<String>,
        /// Evidence.
        pub evidence: Vec<EvidenceView>,
        /// Recommendations.
        pub recommendations: Vec<String>,
    }
}

view! {
    /// The latest assessment.
    pub struct AssessmentView {
        /// The instant assessed, UTC ms.
        pub time_ms: f64,
        /// Overall risk.
        pub risk_score: f64,
        /// Band.
        pub risk_level: String,
        /// Confidence.
        pub confidence: f64,
        /// Event.
        pub event: Option<String>,
        /// Findings, highest first.
        pub findings: Vec<FindingView>,
    }
}

view! {
    /// An alert.
    pub struct AlertView {
        /// Id.
        pub id: String,
        /// Patient id.
        pub patient_id: String,
        /// MRN.
        pub mrn: String,
        /// Name.
        pub name: String,
        /// Event class.
        pub event: String,
        /// Band.
        pub risk_level: String,
        /// 0-1.
        pub risk_score: f64,
        /// 0-1.
        pub confidence: f64,
        /// `new`, `acknowledged`, `resolved`.
        pub status: String,
        /// Raised, UTC ms.
        pub created_ms: f64,
        /// The assessed instant, UTC ms.
        pub event_ms: f64,
        /// Evidence that fired.
        pub evidence: Vec<EvidenceView>,
        /// Recommendations.
        pub recommendations: Vec<String>,
        /// Acknowledged: by, when, note.
        pub acknowledged: Option<TransitionView>,
        /// Resolved: by, when, note.
        pub resolved: Option<TransitionView>,
    }
}

view! {
    /// Who changed an alert's status.
    pub struct TransitionView {
        /// Actor.
        pub by: String,
        /// UTC ms.
        pub at_ms: f64,
        /// Note.
        pub note: String,
    }
}

view! {
    /// HRV over the last 24 h of RR intervals (Task Force 1996).
    pub struct HrvView {
        /// Intervals used.
        pub beats: u32,
        /// Recording length, minutes.
        pub minutes: f64,
        /// SDNN, ms.
        pub sdnn_ms: f64,
        /// RMSSD, ms.
        pub rmssd_ms: f64,
        /// pNN50, %.
        pub pnn50: f64,
        /// Mean heart rate from the intervals, /min.
        pub mean_hr: f64,
        /// LF/HF, when the recording is long enough.
        pub lf_hf: Option<f64>,
        /// Artefacts flagged.
        pub artefacts: u32,
    }
}

view! {
    /// The weight filter's latest state and the heart-failure flags.
    pub struct WeightView {
        /// Weights.
        pub weights: u32,
        /// The newest weight, kg.
        pub latest_kg: f64,
        /// The Kalman level, kg.
        pub level_kg: Option<f64>,
        /// Its standard deviation, kg.
        pub level_sd_kg: Option<f64>,
        /// Trend, kg/week.
        pub trend_kg_per_week: Option<f64>,
        /// Its standard deviation.
        pub trend_sd_kg_per_week: Option<f64>,
        /// Heart-failure rules that hold on the newest weight.
        pub flags: Vec<String>,
    }
}

view! {
    /// Everything the patient screen shows but the charts.
    pub struct PatientView {
        /// Id.
        pub patient_id: String,
        /// MRN.
        pub mrn: String,
        /// Name.
        pub name: String,
        /// Birth date.
        pub birth_date: Option<String>,
        /// Sex.
        pub sex: String,
        /// Latest vitals.
        pub latest: Vec<VitalReading>,
        /// NEWS2.
        pub news2: Option<News2View>,
        /// The assessment now.
        pub assessment: Option<AssessmentView>,
        /// Open alerts.
        pub open_alerts: Vec<AlertView>,
        /// HRV of the last 24 h.
        pub hrv: Option<HrvView>,
        /// Why there is no HRV.
        pub hrv_absent: Option<String>,
        /// Weight.
        pub weight: Option<WeightView>,
        /// The newest observation.
        pub last_data_ms: Option<f64>,
        /// Specialties that could not answer now: the patient needs a clinician's review.
        pub needs_review: Vec<String>,
        /// The monitor's stored assessments, oldest first (the newest [`RISK_TIMELINE_MAX`]).
        pub risk_history: Vec<RiskPoint>,
        /// What the patient consented to, and which version that is (issue 12). Without
        /// monitoring consent there is no assessment.
        pub consent: ConsentView,
    }
}

view! {
    /// A patient's consent as in force: the flags and their version.
    pub struct ConsentView {
        /// Remote monitoring at this workstation.
        pub monitoring: bool,
        /// Sending their data to the clinic server.
        pub clinic_sync: bool,
        /// Research use of de-identified data.
        pub research: bool,
        /// The version in force (1 at registration).
        pub version: u32,
        /// When it was recorded, UTC ms.
        pub changed_at_ms: Option<f64>,
        /// Who recorded it.
        pub changed_by: Option<String>,
    }
}

/// The most stored assessments the patient screen's risk timeline shows.
pub const RISK_TIMELINE_MAX: i64 = 2_000;

view! {
    /// One stored assessment on the risk timeline.
    pub struct RiskPoint {
        /// The instant assessed (event time), UTC ms.
        pub at_ms: f64,
        /// Overall risk, 0-1.
        pub risk_score: f64,
        /// Its band.
        pub risk_level: String,
        /// Specialties that could not answer.
        pub needs_review: Vec<String>,
        /// The event class, if any.
        pub event: Option<String>,
    }
}

/// The kinds shown as "latest vitals", in screen order.
pub(crate) const VITAL_KINDS: [crate::domain::Kind; 7] = {
    use crate::domain::Kind::*;
    [HeartRate, Spo2, RespiratoryRate, BodyTemperature, BpSystolic, BpDiastolic, BodyWeight]
};

/// A kind's label on screen.
pub(crate) fn label(kind: crate::domain::Kind) -> &'static str {
    use crate::domain::Kind::*;
    match kind {
        HeartRate => "Heart rate",
        Spo2 => "SpO₂",
        RespiratoryRate => "Respiratory rate",
        BodyTemperature => "Temperature",
        BpSystolic => "Systolic BP",
        BpDiastolic => "Diastolic BP",
        BodyWeight => "Weight",
        RrInterval => "RR interval",
        Steps => "Steps",
        HrvSdnn => "HRV SDNN",
        Consciousness => "Consciousness (ACVPU)",
        SupplementalOxygen => "Air or oxygen",
        Spo2Scale => "SpO₂ scale",
        BloodGlucose => "Blood glucose",
    }
}

view! {
    /// A rejected record: where, and why.
    pub struct RejectionView {
        /// File, line or element.
        pub location: String,
        /// Why.
        pub reason: String,
    }
}

view! {
    /// Records accepted of one kind.
    pub struct KindCount {
        /// Kind.
        pub kind: String,
        /// Count.
        pub count: f64,
    }
}

view! {
    /// One file's import report, or why it failed (then nothing of it was stored).
    pub struct ImportReportView {
        /// The file.
        pub file: String,
        /// Detected or given format.
        pub format: Option<String>,
        /// Records accepted.
        pub accepted: f64,
        /// Already stored.
        pub duplicates: f64,
        /// Newly stored.
        pub added: f64,
        /// Rejected records, in all.
        pub rejected_total: f64,
        /// The first rejections.
        pub rejected: Vec<RejectionView>,
        /// Accepted, per kind.
        pub by_kind: Vec<KindCount>,
        /// Patients created from the file.
        pub patients_created: f64,
        /// Why the file failed; nothing of it was stored.
        pub error: Option<String>,
        /// Alerts the monitor raised on what the file added.
        pub alerts: Vec<crate::workstation::RaisedAlert>,
    }
}

view! {
    /// Import progress of the file in hand.
    pub struct ImportProgressView {
        /// Which file (0-based) of how many.
        pub file_index: u32,
        /// Files.
        pub files: u32,
        /// Its name.
        pub file: String,
        /// Bytes read.
        pub bytes_read: f64,
        /// Bytes in all.
        pub bytes_total: f64,
        /// Records so far.
        pub records: f64,
    }
}

impl ImportReportView {
    /// A report for the screen (the first 200 rejections).
    pub fn from_report(r: &crate::workstation::ImportReport) -> Self {
        ImportReportView {
            file: r.file.clone(),
            format: Some(convert::name(&r.format)),
            accepted: r.accepted as f64,
            duplicates: r.duplicates as f64,
            added: r.added as f64,
            rejected_total: r.rejected_total as f64,
            rejected: r
                .rejected
                .iter()
                .take(200)
                .map(|x| RejectionView { location: x.location.to_string(), reason: x.reason.clone() })
                .collect(),
            by_kind: r.by_kind.iter().map(|(k, n)| KindCount { kind: k.clone(), count: *n as f64 }).collect(),
            patients_created: r.patients_created as f64,
            error: None,
            alerts: r.alerts.clone(),
        }
    }

    /// A file that failed as a whole.
    pub fn failed(file: &str, error: String) -> Self {
        ImportReportView {
            file: file.to_owned(),
            format: None,
            accepted: 0.0,
            duplicates: 0.0,
            added: 0.0,
            rejected_total: 0.0,
            rejected: Vec::new(),
            by_kind: Vec::new(),
            patients_created: 0.0,
            error: Some(error),
            alerts: Vec::new(),
        }
    }
}
