//! The demo store: synthetic patients with a day of vitals and a month of weights, so that a
//! newcomer sees the workstation working. Marked `demo` in `store_meta`, which the window shows
//! as a DEMO banner. Deterministic: the same seed gives the same data.

use crate::domain::access::{Operation, Role};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use super::{Error, Workstation};
use crate::domain::{Consent, Kind, NewObservation, NewPatient, ObservationValue, Sex, SourceKind};
use crate::store::{InsertReport, Store, StoreError};

/// What the seed stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoReport {
    /// Patients created.
    pub patients: u64,
    /// Observations stored.
    pub observations: u64,
    /// The default model packages activated (`name version`).
    pub models: Vec<String>,
    /// Why they were not, when they were not (e.g. ONNX Runtime missing).
    pub models_skipped: Option<String>,
}

/// A fictional patient and the shape of their series.
struct DemoPatient {
    mrn: &'static str,
    name: &'static str,
    born: (i32, u32, u32),
    sex: Sex,
    profile: Profile,
}

const fn demo(
    mrn: &'static str,
    name: &'static str,
    born: (i32, u32, u32),
    sex: Sex,
    profile: Profile,
) -> DemoPatient {
    DemoPatient { mrn, name, born, sex, profile }
}

/// The demo's zone, UTC+01:00; evaluated when compiling, so a bad offset fails the build.
const DEMO_OFFSET: FixedOffset = match FixedOffset::east_opt(3600) {
    Some(offset) => offset,
    None => panic!("UTC+01:00 is a valid offset"),
};

const PATIENTS: [DemoPatient; 8] = [
    demo("DEMO-0001", "Ada Example", (1948, 3, 14), Sex::Female, Profile::Stable),
    demo("DEMO-0002", "Bruno Sample", (1955, 7, 2), Sex::Male, Profile::FluidGain),
    demo("DEMO-0003", "Chloe Testcase", (1962, 11, 30), Sex::Female, Profile::Hypoxic),
    demo("DEMO-0004", "Dev Placeholder", (1939, 1, 9), Sex::Male, Profile::Febrile),
    demo("DEMO-0005", "Eve Fixture", (1971, 5, 21), Sex::Female, Profile::Stable),
    demo("DEMO-0006", "Farid Mockup", (1950, 9, 17), Sex::Male, Profile::Stable),
    demo("DEMO-0007", "Greta Synthetic", (1944, 12, 1), Sex::Female, Profile::FluidGain),
    demo("DEMO-0008", "Hugo Dummy", (1958, 4, 26), Sex::Other, Profile::Stable),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    Stable,
    /// Weight rising ~0.8 kg/day over the last 4 days (a heart-failure pattern).
    FluidGain,
    /// SpO2 drifting down over the last hours with the heart rate rising.
    Hypoxic,
    /// Temperature spike with tachycardia and tachypnoea (a sepsis-screen pattern).
    Febrile,
}

/// A small xorshift generator: deterministic noise without a dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// The password of the DEMO accounts (DEMO stores only; `vigil demo` prints it and the demo
/// store's login screen shows it). Not a secret: the store holds only synthetic patients.
pub const DEMO_PASSWORD: &str = "vigil-demo";

/// The DEMO accounts: one per person role, named after it.
const DEMO_ACCOUNTS: [Role; 5] = [Role::Clinician, Role::Nurse, Role::Admin, Role::It, Role::Auditor];

impl Workstation {
    /// Creates the DEMO accounts (one per role, named after it, password [`DEMO_PASSWORD`]) in
    /// a store with no account that is new or already a demo store. Returns whether it made
    /// them; a store with accounts is left alone.
    pub async fn create_demo_accounts(&self) -> Result<bool, Error> {
        if self.has_users().await? {
            return Ok(false);
        }
        // Published demonstration passwords belong in demo stores only (`purpose.rs`).
        if self.purpose().await? != super::StorePurpose::Demo {
            return Err(Error::ClinicalStore(self.store.path().display().to_string()));
        }
        let hash = super::access::hash_password(super::Secret::new(DEMO_PASSWORD.to_owned())).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        for role in DEMO_ACCOUNTS {
            let credential = crate::store::users::Credential::Password(&hash);
            crate::store::users::insert(&mut tx, role.as_str(), role, credential, "system:demo", now).await?;
            let detail = serde_json::json!({ "user": role.as_str(), "role": role.as_str(), "demo": true });
            let event = crate::store::AuditEvent {
                actor: "system:demo".into(),
                action: "user.create",
                patient: None,
                detail,
            };
            crate::store::audit_record(&mut tx, &event, now).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(true)
    }

    /// Seeds synthetic demo patients ending at `now`. Refuses a clinical store (`purpose.rs`),
    /// even an empty one, and a store that already holds non-demo patients.
    ///
    /// The patients, their observations, their audit events and the `demo` mark commit in one
    /// transaction: a seed that fails or is interrupted midway leaves the store as it was
    /// (empty), never patients without the mark, which the check above would refuse forever.
    /// The default models are installed after it, each in its own audited call.
    pub async fn seed_demo(&self, now: DateTime<Utc>) -> Result<DemoReport, Error> {
        self.authorize(Operation::DemoSeed).await?;
        let status = self.status().await?;
        if status.purpose == super::StorePurpose::Clinical {
            return Err(Error::ClinicalStore(status.store_path));
        }
        if status.patients > 0 && !status.demo {
            return Err(Error::NotADemoStore(status.store_path));
        }
        if status.demo {
            return Ok(DemoReport { patients: 0, observations: 0, models: Vec::new(), models_skipped: None });
        }
        let today = now.date_naive();
        let offset = DEMO_OFFSET;
        let written = Utc::now();
        let mut report = InsertReport::default();
        let mut tx = self.store.begin().await?;
        let mut first = None;
        for (index, p) in PATIENTS.iter().enumerate() {
            let born = NaiveDate::from_ymd_opt(p.born.0, p.born.1, p.born.2);
            let consent = Consent { monitoring: true, clinic_sync: false, research: false };
            let new = NewPatient::new(p.mrn, p.name, born, p.sex, consent, today)?;
            let patient = crate::store::insert_patient(&mut tx, &new, &self.actor_name(), written).await?;
            first.get_or_insert(patient.id);
            self.audit(&mut tx, "patient.create", Some(&patient), serde_json::json!({})).await?;
            let series = series(patient.id, p.profile, now, offset, index as u64 + 1)?;
            let inserted =
                crate::store::insert_observations(&mut tx, &SourceKind::Demo, &series, written).await?;
            let detail = serde_json::json!({
                "source": super::source_tag(&SourceKind::Demo),
                "inserted": inserted.inserted,
                "duplicates": inserted.duplicates,
            });
            self.audit_id(&mut tx, "observations.record", Some(patient.id), detail).await?;
            report.add(inserted);
        }
        seed_demo_strap(&mut tx, self, first.ok_or(Error::NotADemoStore(status.store_path.clone()))?).await?;
        Store::set_meta(&mut tx, "demo", "true").await?;
        tx.commit().await.map_err(StoreError::from)?;
        let (models, models_skipped) = self.install_default_models().await?;
        Ok(DemoReport {
            patients: PATIENTS.len() as u64,
            observations: report.inserted,
            models,
            models_skipped,
        })
    }

    /// Trusts the development key and activates the default (demonstration) packages. Without
    /// ONNX Runtime the demo runs on rules and says why.
    async fn install_default_models(&self) -> Result<(Vec<String>, Option<String>), Error> {
        use crate::models::defaults::{DEV_PUBLIC_KEY, PACKAGES};
        if let crate::models::RuntimeStatus::Unavailable { reason } = &self.model_runtime().await?.status {
            return Ok((Vec::new(), Some(reason.clone())));
        }
        self.add_trusted_key(DEV_PUBLIC_KEY, "Vigil development key (demonstration models only)").await?;
        let mut installed = Vec::new();
        for (name, bytes) in PACKAGES {
            let r = self.install_package_bytes(name, bytes.to_vec(), super::Rollout::Activate).await?;
            installed.push(format!("{} {}", r.name, r.version));
        }
        Ok((installed, None))
    }
}

/// Registers the DEMO heart-rate strap from its recording's header (`ble::DEMO_RECORDING`),
/// assigned to the first demo patient (who has monitoring consent), so that the window, which
/// replays it on a demo store, shows live data. Only ever in the demo seed's transaction.
async fn seed_demo_strap(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    ws: &Workstation,
    patient: crate::domain::PatientId,
) -> Result<(), Error> {
    let recording = crate::ble::demo_recording()
        .map_err(|e| crate::domain::InvalidField::new("DEMO recording", e.to_string()))?;
    let header = &recording.device;
    let new = crate::domain::NewDevice {
        kind: header.kind.parse()?,
        make: header.manufacturer.clone().unwrap_or_else(|| "Vigil DEMO".into()),
        model: header.model.clone().unwrap_or_else(|| "replay".into()),
        serial: header.serial.clone(),
        ble_address: Some(header.address.clone()),
        patient_id: Some(patient),
    }
    .validated()?;
    let device = crate::store::insert_device(tx, &new, Utc::now()).await?;
    let report = crate::store::LinkReport {
        name: header.name.clone(),
        firmware: header.firmware.clone(),
        ..crate::store::LinkReport::default()
    };
    crate::store::note_link(tx, device.id, &report).await?;
    let detail = serde_json::json!({ "device_id": device.id, "kind": device.kind.as_str(), "demo": true });
    ws.audit_id(tx, "device.create", Some(patient), detail).await?;
    Ok(())
}

fn series(
    patient: crate::domain::PatientId,
    profile: Profile,
    now: DateTime<Utc>,
    offset: FixedOffset,
    seed: u64,
) -> Result<Vec<NewObservation>, Error> {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15 ^ seed);
    let mut out = Vec::new();
    let end = Utc.timestamp_opt(now.timestamp() - now.timestamp() % 60, 0).single().unwrap_or(now);
    let mut push = |kind: Kind, value: f64, at: DateTime<Utc>| -> Result<(), Error> {
        let rounded = (value * 10.0).round() / 10.0;
        let effective = at.with_timezone(&offset);
        out.push(NewObservation::new(patient, kind, ObservationValue::Quantity(rounded), effective)?);
        Ok(())
    };
    // 24 h of vitals, one sample a minute.
    let minutes = 24 * 60;
    for i in 0..minutes {
        let at = end - Duration::minutes(minutes - i);
        let late = ((i - (minutes - 360)) as f64 / 360.0).clamp(0.0, 1.0); // last 6 h ramp
        let (mut hr, mut spo2, mut rr, mut temp) = (72.0, 97.0, 15.0, 36.8);
        match profile {
            Profile::Hypoxic => {
                spo2 -= 8.0 * late;
                hr += 25.0 * late;
                rr += 8.0 * late;
            }
            Profile::Febrile => {
                temp += 2.2 * late;
                hr += 30.0 * late;
                rr += 7.0 * late;
            }
            Profile::Stable | Profile::FluidGain => {}
        }
        hr += 4.0 * noise.next();
        spo2 = (spo2 + 1.5 * noise.next()).min(100.0);
        rr += 2.0 * noise.next();
        temp += 0.2 * noise.next();
        push(Kind::HeartRate, hr, at)?;
        push(Kind::Spo2, spo2, at)?;
        push(Kind::RespiratoryRate, rr, at)?;
        if i % 15 == 0 {
            push(Kind::BodyTemperature, temp, at)?;
        }
    }
    // 30 days of morning weights and blood pressures.
    for day in 0..30 {
        let at = end - Duration::days(30 - day) + Duration::hours(1);
        let gain = if profile == Profile::FluidGain { (day as f64 - 25.0).max(0.0) * 0.8 } else { 0.0 };
        push(Kind::BodyWeight, 78.0 + gain + 0.6 * noise.next(), at)?;
        push(Kind::BpSystolic, 128.0 + 8.0 * noise.next(), at)?;
        push(Kind::BpDiastolic, 78.0 + 5.0 * noise.next(), at)?;
    }
    // The last 10 minutes beat to beat from a chest strap: RR intervals with respiratory sinus
    // arrhythmia (0.25 Hz, 15 breaths/min) and noise; the acutely ill profiles have a faster
    // rate and less variability (Task Force 1996: reduced HRV in acute illness).
    let (rate, swing) = match profile {
        Profile::Hypoxic | Profile::Febrile => (100.0, 6.0),
        Profile::Stable | Profile::FluidGain => (70.0, 35.0),
    };
    let mut beat_ms = (end - Duration::minutes(10)).timestamp_millis();
    let stop_ms = end.timestamp_millis();
    while beat_ms < stop_ms {
        let phase = (beat_ms as f64 / 1000.0) * 0.25 * std::f64::consts::TAU;
        let rr_ms = (60_000.0 / rate + swing * phase.sin() + 8.0 * noise.next()).round();
        // A rounded RR interval of about a second; `as` saturates.
        #[allow(clippy::cast_possible_truncation, reason = "whole milliseconds, about 1000")]
        let rr = rr_ms as i64;
        beat_ms += rr;
        let at = Utc.timestamp_millis_opt(beat_ms).single().unwrap_or(end);
        let effective = at.with_timezone(&offset);
        out.push(NewObservation::new(
            patient,
            Kind::RrInterval,
            ObservationValue::Quantity(rr_ms),
            effective,
        )?);
    }
    Ok(out)
}
