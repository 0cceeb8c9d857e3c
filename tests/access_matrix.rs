//! The permission matrix, end to end: every facade operation called as every role. A role the
//! matrix allows is never refused for access (the call may still fail for its own reasons: no
//! such alert, a clinical store); a role it does not allow is refused with `AccessDenied`, and
//! the refusal is in the audit trail. The `match` over `Operation` has no wildcard, so a new
//! operation does not compile until it has a call here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use chrono::{NaiveDate, Utc};
use vigil::Workstation;
use vigil::agents::{Orchestrator, OrchestratorConfig};
use vigil::domain::access::{Operation, PERMISSIONS, Role, allowed};
use vigil::domain::{Consent, DeviceKind, NewDevice, NewPatient, PatientRef, Sex, SourceKind};
use vigil::export::ExportFormat;
use vigil::store::{AlertQuery, KeySource};
use vigil::workstation::{
    AssessOptions, AuditSelection, CancelToken, Error, ImportOptions, Monitor, OpenOptions, PatientEdit,
    SpotVitals, StorePurpose, WeightMeasurement,
};

async fn call(ws: &Workstation, op: Operation, orchestrator: &Orchestrator, n: usize) -> Result<(), Error> {
    let p = PatientRef::Mrn("MX-1".into());
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    match op {
        Operation::Status => ws.status().await.map(drop),
        Operation::SettingsRead => ws.settings().await.map(drop),
        Operation::SettingsChange => ws.set_setting("escalation_minutes", "5").await.map(drop),
        Operation::PatientList => ws.patients().await.map(drop),
        Operation::PatientRead => ws.patient(&p).await.map(drop),
        Operation::PatientCreate => {
            let new =
                NewPatient::new(&format!("MX-N{n}"), "New Patient", None, Sex::Unknown, Consent::FULL, today);
            ws.add_patient(new.unwrap()).await.map(drop)
        }
        Operation::PatientEdit => ws.update_patient(&p, PatientEdit::default()).await.map(drop),
        Operation::ConsentRead => ws.consent_history(&p).await.map(drop),
        Operation::ConsentChange => ws.set_consent(&p, Consent::FULL, None).await.map(drop),
        Operation::PatientRestrict => ws.set_restricted(&p, false).await.map(drop),
        Operation::BreakGlass => ws.break_glass(&p, "matrix test: every role").await.map(drop),
        Operation::ObservationsRecord => ws.record_observations(&SourceKind::Manual, &[]).await.map(drop),
        Operation::VitalsRecord => {
            let mut monitor = Monitor::default();
            ws.record_vitals(&p, SpotVitals::default(), orchestrator, &mut monitor).await.map(drop)
        }
        Operation::Import => {
            let missing = std::path::Path::new("/nonexistent/vigil-matrix.csv");
            ws.import_file(missing, &ImportOptions::default(), &|_| {}, &CancelToken::default())
                .await
                .map(drop)
        }
        Operation::Export => ws.export(&p, ExportFormat::Csv).await.map(drop),
        Operation::WeightProcess => {
            let at = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:00:00+01:00").unwrap();
            let m = WeightMeasurement::kg(at, 80.0 + n as f64 * 0.01, SourceKind::Manual);
            ws.process_weight(&p, &m).await.map(drop)
        }
        Operation::Assess => ws.assess(orchestrator, &p, &AssessOptions::default()).await.map(drop),
        Operation::MonitorPass => ws.monitor_pass(orchestrator, &mut Monitor::default()).await.map(drop),
        Operation::AlertsRead => ws.alerts(&AlertQuery::default()).await.map(drop),
        Operation::AlertWatch => ws.alert_watch(Utc::now()).await.map(drop),
        Operation::AlertAcknowledge => ws.acknowledge_alert("no-such-alert", "seen").await.map(drop),
        Operation::AlertResolve => ws.resolve_alert("no-such-alert", "done").await.map(drop),
        Operation::DevicesRead => ws.devices().await.map(drop),
        Operation::DeviceAdd => {
            let device = NewDevice {
                kind: DeviceKind::PulseOximeter,
                make: "Matrix".into(),
                model: format!("M{n}"),
                serial: None,
                ble_address: None,
                patient_id: None,
            };
            ws.add_device(device).await.map(drop)
        }
        Operation::DeviceAssign => ws
            .assign_device(&vigil::store::DeviceRef::Address("F0:00:00:00:00:99".into()), Some(&p))
            .await
            .map(drop),
        Operation::AgentsRead => ws.packages().await.map(drop),
        Operation::PackagesManage => ws.remove_trusted_key("no-such-key").await.map(drop),
        Operation::DemoSeed => ws.seed_demo(Utc::now()).await.map(drop),
        Operation::AuditVerify => ws.verify_audit().await.map(drop),
        Operation::AuditRead => ws.recent_audit(1).await.map(drop),
        Operation::AuditExport => {
            let mut out = Vec::new();
            ws.export_audit(&AuditSelection::default(), &mut out, std::path::Path::new("memory"))
                .await
                .map(drop)
        }
        Operation::OutboxRead => ws.pending_outbox(1).await.map(drop),
        Operation::IntegrityCheck => ws.integrity_check().await,
        Operation::UsersRead => ws.users().await.map(drop),
        Operation::UsersManage => ws.set_user_disabled("no-such-user", false).await.map(drop),
        Operation::OwnAccount => {
            let me = ws.session_info().map_or_else(|| "nobody".to_owned(), |s| s.user);
            ws.set_password(&me, None, common::password()).await
        }
        // Not enrolled: an allowed call fails on that, a refused one on the role.
        Operation::SyncEnroll => ws.sync_enroll("https://127.0.0.1:9", "VGL1-bad").await.map(drop),
        Operation::SyncRun => ws.sync_now().await.map(drop),
        Operation::SyncStatus => ws.sync_status().await.map(drop),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_facade_operation_is_allowed_or_refused_as_the_matrix_says_for_every_role() {
    let dir = tempfile::tempdir().unwrap();
    let options = OpenOptions {
        data_dir: dir.path().join("data"),
        key_source: Some(KeySource::File(dir.path().join("vigil.key"))),
        create: true,
        purpose: StorePurpose::Clinical,
    };
    let ws = common::open(options).await;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let new = NewPatient::new("MX-1", "Matrix Patient", None, Sex::Unknown, Consent::FULL, today).unwrap();
    ws.add_patient(new).await.unwrap();
    let orchestrator = Orchestrator::with_rules(&OrchestratorConfig::default());

    let mut n = 0;
    let mut denied = 0;
    for role in Role::ALL {
        common::sign_in_as(&ws, role).await;
        for rule in PERMISSIONS {
            n += 1;
            let result = call(&ws, rule.operation, &orchestrator, n).await;
            let refused = matches!(&result, Err(Error::AccessDenied { .. }));
            if allowed(role, rule.operation) {
                assert!(!refused, "{role} may {}: {result:?}", rule.name);
                assert!(
                    !matches!(
                        &result,
                        Err(Error::NotSignedIn | Error::SessionLocked | Error::SessionIdle { .. })
                    ),
                    "{role}, {}: {result:?}",
                    rule.name
                );
            } else {
                assert!(refused, "{role} may not {}: {result:?}", rule.name);
                denied += 1;
            }
        }
    }
    assert!(denied > 50, "the matrix refuses something to most roles: {denied}");

    // Every refusal is in the trail as access.denied, naming the operation.
    common::sign_in_as(&ws, Role::Auditor).await;
    ws.verify_audit().await.unwrap(); // chains the spooled refusals
    let trail = ws.recent_audit(100_000).await.unwrap();
    let refusals = trail.iter().filter(|(_, _, action, _)| action == "access.denied").count();
    assert!(refusals >= denied, "{refusals} access.denied events for {denied} refusals");

    // Signed out, everything is refused.
    ws.sign_out().await;
    for rule in PERMISSIONS {
        let result = call(&ws, rule.operation, &orchestrator, 0).await;
        assert!(matches!(result, Err(Error::NotSignedIn)), "{}: {result:?}", rule.name);
    }
}
