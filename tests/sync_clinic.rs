//! The clinic server and sync (issue 14), end to end: real PostgreSQL (the throwaway cluster
//! scripts/test.sh starts), the real `vigil-server` binary over TLS, and real workstations with
//! encrypted stores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::Path;

use chrono::{DateTime, NaiveDate};
use common::clinic::Server;
use vigil::Workstation;
use vigil::domain::access::Role;
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
};
use vigil::store::ObservationQuery;
use vigil_protocol::wire::paths;
use vigil_protocol::wire::push::PushAck;
use vigil_protocol::wire::sign::DeviceKey;

const START: i64 = 1_793_001_600; // 2026-10-26T06:40:00Z, within the store's clock bounds

async fn enroll(ws: &Workstation, server: &Server, clinic: &str) {
    common::sign_in_as(ws, Role::It).await;
    ws.sync_enroll(&server.url, &server.code(clinic)).await.unwrap();
    common::sign_in_as(ws, Role::Clinician).await;
}

/// A server with one clinic ("North") and two workstations enrolled in it, signed in as
/// clinicians.
async fn clinic_of_two(dir: &Path) -> (Server, Workstation, Workstation) {
    let server = Server::start(&common::clinic::fresh_database(), &dir.join("server"));
    let clinic = server.clinic("North");
    let a = common::clinic::workstation(dir, "a").await;
    let b = common::clinic::workstation(dir, "b").await;
    enroll(&a, &server, &clinic).await;
    enroll(&b, &server, &clinic).await;
    (server, a, b)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

async fn patient_with_readings(
    ws: &Workstation,
    mrn: &str,
    consent: Consent,
    n: i64,
) -> vigil::domain::PatientId {
    let patient = ws
        .add_patient(NewPatient::new(mrn, "Sync Patient", None, Sex::Female, consent, today()).unwrap())
        .await
        .unwrap();
    let batch: Vec<NewObservation> = (0..n)
        .map(|i| {
            let at = DateTime::from_timestamp(START + i, 0).unwrap().fixed_offset();
            NewObservation::new(
                patient.id,
                Kind::HeartRate,
                ObservationValue::Quantity(60.0 + (i % 40) as f64),
                at,
            )
            .unwrap()
        })
        .collect();
    if n > 0 {
        ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
    }
    patient.id
}

async fn count(ws: &Workstation, mrn: &str) -> usize {
    ws.observations(&PatientRef::Mrn(mrn.into()), &ObservationQuery::default()).await.unwrap().1.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_on_one_workstation_reaches_another_once_and_a_cut_push_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, a, b) = clinic_of_two(dir.path()).await;

    // 45 000 readings: three pushes of at most 20 000 rows.
    patient_with_readings(&a, "MRN-S1", Consent::FULL, 45_000).await;
    let pushed = a.sync_now().await.unwrap();
    assert_eq!((pushed.pushed_rows, pushed.inserted, pushed.pushes), (45_000, 45_000, 3), "{pushed:?}");
    assert_eq!(pushed.pending, 0);

    let pulled = b.sync_now().await.unwrap();
    assert_eq!(pulled.pulled.patients_added, 1, "{pulled:?}");
    assert_eq!(pulled.pulled.observations.inserted, 45_000);
    assert_eq!(count(&b, "MRN-S1").await, 45_000);

    // Nothing new: a second pass on either side moves nothing.
    let again = a.sync_now().await.unwrap();
    assert_eq!((again.pushes, again.pushed_rows), (0, 0));
    let again = b.sync_now().await.unwrap();
    assert_eq!(again.pulled.observations.inserted + again.pulled.patients_added, 0);

    // The server killed (SIGKILL) and restarted between two passes: the next pass resumes from
    // the acknowledged position and nothing is stored twice.
    a.record_observations(
        &SourceKind::Manual,
        &[NewObservation::new(
            a.patient(&PatientRef::Mrn("MRN-S1".into())).await.unwrap().id,
            Kind::Spo2,
            ObservationValue::Quantity(97.0),
            DateTime::from_timestamp(START, 0).unwrap().fixed_offset(),
        )
        .unwrap()],
    )
    .await
    .unwrap();
    server.kill();
    let offline = a.sync_now().await.unwrap_err();
    assert!(offline.to_string().contains("unreachable"), "{offline}");
    let status = a.sync_status().await.unwrap();
    assert_eq!(status.pending, 1);
    assert!(status.last_error.is_some());
    server.restart();
    let resumed = a.sync_now().await.unwrap();
    assert_eq!((resumed.pushed_rows, resumed.inserted), (1, 1), "{resumed:?}");
    b.sync_now().await.unwrap();
    assert_eq!(count(&b, "MRN-S1").await, 45_001);
    let listed = server.admin_json(&["workstations", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_without_clinic_sync_consent_never_leaves_the_workstation() {
    let dir = tempfile::tempdir().unwrap();
    // `_server` (not `_`): the server lives to the end of the test.
    let (_server, a, b) = clinic_of_two(dir.path()).await;
    let local_only = Consent { clinic_sync: false, ..Consent::FULL };
    patient_with_readings(&a, "MRN-LOCAL", local_only, 100).await;
    patient_with_readings(&a, "MRN-SHARED", Consent::FULL, 10).await;
    let pushed = a.sync_now().await.unwrap();
    assert_eq!(pushed.pushed_rows, 10);
    b.sync_now().await.unwrap();
    let mrns: Vec<String> = b.patients().await.unwrap().into_iter().map(|p| p.mrn).collect();
    assert_eq!(mrns, vec!["MRN-SHARED".to_owned()]);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_edited_on_both_workstations_keeps_both_values_for_review() {
    let dir = tempfile::tempdir().unwrap();
    // `_server` (not `_`): the server lives to the end of the test.
    let (_server, a, b) = clinic_of_two(dir.path()).await;
    patient_with_readings(&a, "MRN-E", Consent::FULL, 0).await;
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    let edit =
        |name: &str| vigil::workstation::PatientEdit { name: Some(name.to_owned()), ..Default::default() };
    let reference = PatientRef::Mrn("MRN-E".into());
    a.update_patient(&reference, edit("Name From A")).await.unwrap();
    b.update_patient(&reference, edit("Name From B")).await.unwrap();
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    a.sync_now().await.unwrap();
    // Both changed the name from the same value: each keeps its own and holds the other's for
    // review; neither is dropped.
    for (ws, mine, theirs) in [(&a, "Name From A", "Name From B"), (&b, "Name From B", "Name From A")] {
        assert_eq!(ws.patient(&reference).await.unwrap().name, mine);
        let conflicts = ws.sync_conflicts().await.unwrap();
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!(conflicts[0].field, "name");
        assert_eq!(
            (conflicts[0].local.as_deref(), conflicts[0].remote.as_deref()),
            (Some(mine), Some(theirs))
        );
    }
    // Edits to different fields merge: A corrects the sex, B the birth date.
    let born = NaiveDate::from_ymd_opt(1950, 5, 17).unwrap();
    a.update_patient(
        &reference,
        vigil::workstation::PatientEdit { sex: Some(Sex::Other), ..Default::default() },
    )
    .await
    .unwrap();
    b.update_patient(
        &reference,
        vigil::workstation::PatientEdit { birth_date: Some(Some(born)), ..Default::default() },
    )
    .await
    .unwrap();
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    a.sync_now().await.unwrap();
    for ws in [&a, &b] {
        let merged = ws.patient(&reference).await.unwrap();
        assert_eq!((merged.sex, merged.birth_date), (Sex::Other, Some(born)));
        assert_eq!(ws.sync_conflicts().await.unwrap().len(), 1);
    }
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_wrong_and_revoked_credentials_and_other_clinics_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&common::clinic::fresh_database(), &dir.path().join("server"));
    let north = server.clinic("North");
    let south = server.clinic("South");
    let a = common::clinic::workstation(dir.path(), "a").await;
    common::sign_in_as(&a, Role::It).await;
    let code = server.code(&north);
    a.sync_enroll(&server.url, &code).await.unwrap();

    // A used code; a code that was never made; a malformed one.
    let b = common::clinic::workstation(dir.path(), "b").await;
    common::sign_in_as(&b, Role::It).await;
    let used = b.sync_enroll(&server.url, &code).await.unwrap_err().to_string();
    assert!(used.contains("already used") && used.contains("410"), "{used}");
    let fingerprint = code.rsplit('-').next().unwrap();
    let made_up = format!("VGL1-{}-{fingerprint}", "ab".repeat(16));
    let unknown = b.sync_enroll(&server.url, &made_up).await.unwrap_err().to_string();
    assert!(unknown.contains("unknown enrolment code") && unknown.contains("403"), "{unknown}");
    assert!(
        b.sync_enroll(&server.url, "VGL1-nonsense")
            .await
            .unwrap_err()
            .to_string()
            .contains("not an enrolment code")
    );
    // A code whose fingerprint is not the server's: the TLS handshake itself is refused.
    let south_code = server.code(&south);
    let wrong_pin = format!("{}{}", &south_code[..south_code.len() - 64], "00".repeat(32));
    let pinned = b.sync_enroll(&server.url, &wrong_pin).await.unwrap_err().to_string();
    assert!(pinned.contains("pinned"), "{pinned}");

    // Signed requests by hand: unsigned, signed by another key, and claiming another clinic.
    let status = a.sync_status().await.unwrap();
    let (clinic, me) = (status.clinic_id.unwrap(), a_id(&a).await);
    let mut pin = [0u8; 32];
    hex::decode_to_slice(status.fingerprint.unwrap(), &mut pin).unwrap();
    let link = vigil::sync::link::Link::new(&server.url, pin, std::time::Duration::from_secs(10)).unwrap();
    let unsigned = link.post_unsigned::<PushAck>(paths::PUSH, b"{}".to_vec()).await.unwrap_err().to_string();
    assert!(unsigned.contains("401") && unsigned.contains("unsigned"), "{unsigned}");
    let (_, stranger) = DeviceKey::generate(&ring::rand::SystemRandom::new()).unwrap();
    let forged = vigil::sync::link::Signer { clinic, workstation: me, key: stranger };
    let refused = link.get::<PushAck>(&forged, paths::POSITION).await.unwrap_err().to_string();
    assert!(refused.contains("401") && refused.contains("signature"), "{refused}");
    let (_, key) = DeviceKey::generate(&ring::rand::SystemRandom::new()).unwrap();
    let elsewhere = vigil::sync::link::Signer { clinic: south.parse().unwrap(), workstation: me, key };
    for path in [paths::POSITION, "/v1/pull?after=0"] {
        let refused = link.get::<serde_json::Value>(&elsewhere, path).await.unwrap_err().to_string();
        assert!(refused.contains("401") && refused.contains("not enrolled in clinic"), "{path}: {refused}");
    }

    // Malformed and oversized bodies, signed by the real key: a 4xx with a message naming
    // what was wrong, and the server keeps serving.
    let key = DeviceKey::from_pkcs8(&common::clinic::device_key(&a).await).unwrap();
    let me_signer = vigil::sync::link::Signer { clinic, workstation: me, key };
    for (body, status, words) in [
        (b"{not json".to_vec(), "400", "push body"),
        (br#"{"after":{"message":0,"row":0},"items":[{"message":1,"id":"00000000-0000-0000-0000-000000000000","entity":"observations","entity_id":null,"op":"insert","patient_id":"00000000-0000-0000-0000-000000000000","payload":{},"rows":[["00000000-0000-0000-0000-000000000000","heart_rate",0,0,9000.0,null]],"row":1}],"app_version":"t","audit_head":null}"#.to_vec(), "400", "items[0].rows[0].value"),
        (vec![b' '; 33 * 1024 * 1024], "413", "larger than"),
    ] {
        let refused = link.post::<PushAck>(&me_signer, paths::PUSH, body).await.unwrap_err().to_string();
        assert!(refused.contains(status) && refused.contains(words), "{refused}");
    }
    common::sign_in_as(&a, Role::Clinician).await;
    a.sync_now().await.unwrap();

    // Revoked: refused with 403, nothing stored.
    assert!(server.admin(&["revoke", &me.to_string()]).status.success());
    patient_with_readings(&a, "MRN-R", Consent::FULL, 5).await;
    let revoked = a.sync_now().await.unwrap_err().to_string();
    assert!(revoked.contains("403") && revoked.contains("revoked"), "{revoked}");
    assert_eq!(a.sync_status().await.unwrap().pending, 2);
    a.close().await;
    b.close().await;
}

async fn a_id(ws: &Workstation) -> uuid::Uuid {
    let listed = ws.sync_status().await.unwrap();
    assert!(listed.enrolled);
    ws.status().await.unwrap().store_id.parse().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_copy_of_the_store_no_longer_extends_the_audit_head_the_server_acknowledged() {
    use vigil::store::ServerHeadCheck;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&common::clinic::fresh_database(), &dir.path().join("server"));
    let clinic = server.clinic("North");
    let a = common::clinic::workstation(dir.path(), "a").await;
    enroll(&a, &server, &clinic).await;
    patient_with_readings(&a, "MRN-H1", Consent::FULL, 10).await;
    a.sync_now().await.unwrap();
    common::sign_in_as(&a, Role::Auditor).await;
    let verified = a.verify_audit().await.unwrap();
    assert!(matches!(verified.server_head, ServerHeadCheck::Extends { .. }), "{verified:?}");
    a.close().await;

    let data = dir.path().join("a").join("data");
    copy_dir(&data, &dir.path().join("older"));
    let a = common::clinic::workstation(dir.path(), "a").await;
    patient_with_readings(&a, "MRN-H2", Consent::FULL, 10).await;
    a.sync_now().await.unwrap();
    a.close().await;

    // The older copy put back: its own record of the head is older, but the server's is not.
    std::fs::remove_dir_all(&data).unwrap();
    copy_dir(&dir.path().join("older"), &data);
    let a = common::clinic::workstation(dir.path(), "a").await;
    common::sign_in_as(&a, Role::Auditor).await;
    let verified = a.verify_audit().await.unwrap();
    let ServerHeadCheck::Broken { problem, .. } = &verified.server_head else { panic!("{verified:?}") };
    assert!(problem.contains("clinic server acknowledged"), "{problem}");
    assert!(!verified.intact());
    a.close().await;
}

/// Ten minutes of 1 Hz vitals with SpO2 85 % (below 90 %: severe hypoxaemia, WHO 2011), so the
/// default policy raises hypoxia alerts (as tests/alerts_lifecycle.rs).
fn hypoxic() -> impl Iterator<Item = vigil::analysis::window::VitalSample> {
    (0..600).map(|i| vigil::analysis::window::VitalSample {
        time: START + i,
        heart_rate: Some(72.0),
        spo2: Some(85.0),
        respiratory_rate: Some(14.0),
        body_temperature: Some(36.8),
        rr_interval: Some(if i % 2 == 0 { 830.0 } else { 836.0 }),
        hrv_sdnn: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_raised_on_one_workstation_merges_to_its_furthest_state_everywhere() {
    use vigil::agents::alerting::AlertStatus;
    use vigil::agents::{Orchestrator, OrchestratorConfig};
    let dir = tempfile::tempdir().unwrap();
    // `_server` (not `_`): the server lives to the end of the test.
    let (_server, a, b) = clinic_of_two(dir.path()).await;
    patient_with_readings(&a, "MRN-AL", Consent::FULL, 0).await;
    let orchestrator = Orchestrator::with_rules(&OrchestratorConfig::default());
    let reference = PatientRef::Mrn("MRN-AL".into());
    let options = vigil::workstation::MonitorOptions::default();
    let raised = a.monitor(&orchestrator, &reference, hypoxic(), &options, |_| {}).await.unwrap().alerts;
    assert!(!raised.is_empty());
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    let on_b = b.alerts(&vigil::store::AlertQuery::default()).await.unwrap();
    let id = raised[0].id;
    assert!(on_b.iter().any(|x| x.id == id && x.status == AlertStatus::New), "{on_b:?}");

    // B acknowledges while A, not knowing, resolves: both steps go both ways.
    b.acknowledge_alert(&id.to_string(), "seen on B").await.unwrap();
    a.resolve_alert(&id.to_string(), "oxygen started on A").await.unwrap();
    for ws in [&a, &b, &a, &b] {
        ws.sync_now().await.unwrap();
    }
    for ws in [&a, &b] {
        let alert = ws
            .alerts(&vigil::store::AlertQuery::default())
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.id == id)
            .unwrap();
        assert_eq!(alert.status, AlertStatus::Resolved);
        assert_eq!(alert.resolved.unwrap().note, "oxygen started on A");
    }
    a.close().await;
    b.close().await;
}
