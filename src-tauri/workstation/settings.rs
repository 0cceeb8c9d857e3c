//! The workstation's settings, kept in the store (`store_meta`, key `setting.<name>`), each
//! with its default and its range. Changing one is audited. (IT's managed policy, when it
//! comes, sits above these.)

use chrono::Utc;
use serde::Serialize;

use super::{Error, Workstation};
use crate::domain::access::Operation;
use crate::domain::{InvalidField, TimeBounds};
use crate::store::{Store, StoreError};

/// One setting's definition.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    /// The name on every interface.
    pub name: &'static str,
    /// What it does, for `vigil settings`.
    pub about: &'static str,
    /// The value when none is set.
    pub default: u32,
    /// The smallest value allowed.
    pub min: u32,
    /// The largest value allowed.
    pub max: u32,
}

/// Every setting.
pub const SETTINGS: [SettingSpec; 3] = [
    SettingSpec {
        name: "future_tolerance_minutes",
        about: "how far ahead of this workstation's clock a reading's time may be before it is refused \
                (device clocks drift)",
        default: TimeBounds::DEFAULT_TOLERANCE_MINUTES,
        min: 0,
        max: TimeBounds::MAX_TOLERANCE_MINUTES,
    },
    SettingSpec {
        name: "escalation_minutes",
        about: "how long a critical alert may stay unacknowledged before the window escalates it \
                (notifies again and marks it escalated)",
        default: 5,
        min: 1,
        max: 24 * 60,
    },
    SettingSpec {
        name: "idle_lock_minutes",
        about: "how long a signed-in session may stay idle before it locks and the window forgets \
                every patient on screen (HIPAA 164.312(a)(2)(iii) automatic logoff)",
        default: 15,
        min: 1,
        max: 8 * 60,
    },
];

/// A setting's effective value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingValue {
    /// The name.
    pub name: &'static str,
    /// The effective value.
    pub value: u32,
    /// `default` or `store`.
    pub origin: &'static str,
    /// What it does.
    pub about: &'static str,
}

fn spec(name: &str) -> Result<&'static SettingSpec, Error> {
    SETTINGS.iter().find(|s| s.name == name).ok_or_else(|| {
        let known: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        InvalidField::new("setting", format!("'{name}' is not a setting (known: {})", known.join(", ")))
            .into()
    })
}

impl Workstation {
    /// Every setting with its effective value. No patient data: not audited.
    pub async fn settings(&self) -> Result<Vec<SettingValue>, Error> {
        self.authorize(Operation::SettingsRead).await?;
        let mut values = Vec::with_capacity(SETTINGS.len());
        for spec in &SETTINGS {
            let stored = stored(&self.store, spec).await?;
            values.push(SettingValue {
                name: spec.name,
                value: stored.unwrap_or(spec.default),
                origin: if stored.is_some() { "store" } else { "default" },
                about: spec.about,
            });
        }
        Ok(values)
    }

    /// Sets `name` to `value` (text, as typed), checked against its range. Audited.
    pub async fn set_setting(&self, name: &str, value: &str) -> Result<SettingValue, Error> {
        self.authorize(Operation::SettingsChange).await?;
        let spec = spec(name)?;
        let parsed: u32 =
            value.trim().parse().ok().filter(|v| (spec.min..=spec.max).contains(v)).ok_or_else(|| {
                InvalidField::new(
                    "setting",
                    format!(
                        "{name} must be a whole number from {} to {}, not '{}'",
                        spec.min,
                        spec.max,
                        value.trim()
                    ),
                )
            })?;
        let mut tx = self.store.begin().await?;
        Store::set_meta(&mut tx, &format!("setting.{}", spec.name), &parsed.to_string()).await?;
        let detail = serde_json::json!({ "setting": spec.name, "value": parsed });
        self.audit_id(&mut tx, "setting.change", None, detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        if spec.name == "idle_lock_minutes" {
            self.idle_minutes.store(i64::from(parsed), std::sync::atomic::Ordering::Relaxed);
        }
        Ok(SettingValue { name: spec.name, value: parsed, origin: "store", about: spec.about })
    }

    /// How long a critical alert may stay unacknowledged before it is escalated, minutes.
    pub(crate) async fn escalation_minutes(&self) -> Result<u32, Error> {
        let spec = spec("escalation_minutes")?;
        Ok(stored(&self.store, spec).await?.unwrap_or(spec.default))
    }

    /// The time window readings received now must fall in.
    pub(crate) async fn time_bounds(&self) -> Result<TimeBounds, Error> {
        let spec = spec("future_tolerance_minutes")?;
        let minutes = stored(&self.store, spec).await?.unwrap_or(spec.default);
        Ok(TimeBounds::new(Utc::now(), minutes))
    }
}

impl Workstation {
    /// A setting's effective value as a number (internal reads: no authorization needed).
    pub(crate) async fn setting_i64(&self, name: &str) -> Result<Option<i64>, Error> {
        let spec = spec(name)?;
        Ok(Some(i64::from(stored(&self.store, spec).await?.unwrap_or(spec.default))))
    }
}

/// The stored value, if one is set and still valid (a value out of range reads as unset).
async fn stored(store: &Store, spec: &SettingSpec) -> Result<Option<u32>, Error> {
    let text = store.meta(&format!("setting.{}", spec.name)).await?;
    Ok(text.and_then(|t| t.parse().ok()).filter(|v| (spec.min..=spec.max).contains(v)))
}
