//! Serving a pull page: whole versions after the cursor, from the signer's clinic, without the
//! signer's own rows, read in one REPEATABLE READ snapshot so the page and its cursor agree.

use std::str::FromStr;

use sqlx::{PgPool, Row};
use uuid::Uuid;
use vigil_protocol::domain::{AbsentReason, Kind};
use vigil_protocol::wire::pull::{PullPage, PulledChange, PulledObservations};
use vigil_protocol::wire::push::WireObservation;

use crate::http::ApiError;

/// At most this many versions are looked at for one page.
const VERSIONS_PER_PAGE: i64 = 10_000;

/// The page after version `after` for `me`, holding at most `limit` observations unless one
/// version alone holds more (a version is one push, at most `MAX_ROWS_PER_REQUEST` rows).
pub(crate) async fn page(
    pool: &PgPool,
    clinic: Uuid,
    me: Uuid,
    after: i64,
    limit: usize,
) -> Result<PullPage, ApiError> {
    // What the workstation asks after, it has applied: that is how far it has pulled.
    sqlx::query("UPDATE workstations SET pulled_version = greatest(pulled_version, $3), last_seen = now() WHERE clinic_id = $1 AND id = $2")
        .bind(clinic)
        .bind(me)
        .bind(after)
        .execute(pool)
        .await?;
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let current: i64 = sqlx::query_scalar("SELECT version FROM clinics WHERE id = $1")
        .bind(clinic)
        .fetch_one(&mut *tx)
        .await?;
    if after >= current {
        return Ok(PullPage {
            changes: vec![],
            observations: vec![],
            cursor: after.min(current),
            more: false,
        });
    }
    let counts: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version, count(*) FROM observations WHERE clinic_id = $1 AND version > $2 AND workstation_id <> $3 \
         GROUP BY version ORDER BY version LIMIT $4",
    )
    .bind(clinic)
    .bind(after)
    .bind(me)
    .bind(VERSIONS_PER_PAGE)
    .fetch_all(&mut *tx)
    .await?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut upto = current;
    let mut total = 0i64;
    for &(version, count) in &counts {
        if total > 0 && total + count > limit {
            upto = version - 1;
            break;
        }
        total += count;
    }
    if counts.len() == usize::try_from(VERSIONS_PER_PAGE).unwrap_or(usize::MAX) && upto == current {
        upto = counts.last().map_or(current, |&(v, _)| v);
    }
    let changes = sqlx::query(
        "SELECT version, workstation_id, id, entity, entity_id, op, patient_id, payload FROM changes \
         WHERE clinic_id = $1 AND version > $2 AND version <= $3 AND workstation_id <> $4 ORDER BY version, idx",
    )
    .bind(clinic)
    .bind(after)
    .bind(upto)
    .bind(me)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| PulledChange {
        version: r.get("version"),
        workstation_id: r.get("workstation_id"),
        id: r.get("id"),
        entity: r.get("entity"),
        entity_id: r.get("entity_id"),
        op: r.get("op"),
        patient_id: r.get("patient_id"),
        payload: r.get("payload"),
    })
    .collect();
    let rows = sqlx::query(
        "SELECT version, workstation_id, patient_id, id, kind, effective_ms, offset_s, value, absent_reason \
         FROM observations WHERE clinic_id = $1 AND version > $2 AND version <= $3 AND workstation_id <> $4 \
         ORDER BY version, patient_id, effective_ms",
    )
    .bind(clinic)
    .bind(after)
    .bind(upto)
    .bind(me)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut observations: Vec<PulledObservations> = Vec::new();
    for r in &rows {
        let version: i64 = r.get("version");
        let patient: Uuid = r.get("patient_id");
        let kind: &str = r.get("kind");
        let absent: Option<&str> = r.get("absent_reason");
        let row = WireObservation(
            r.get("id"),
            Kind::from_str(kind).map_err(|_| stored(format!("kind {kind}")))?,
            r.get("effective_ms"),
            r.get("offset_s"),
            r.get("value"),
            absent.map(AbsentReason::from_str).transpose().map_err(|e| stored(e.to_string()))?,
        );
        match observations.last_mut() {
            Some(group) if group.version == version && group.patient_id == patient => group.rows.push(row),
            _ => observations.push(PulledObservations {
                version,
                workstation_id: r.get("workstation_id"),
                patient_id: patient,
                rows: vec![row],
            }),
        }
    }
    Ok(PullPage { changes, observations, cursor: upto, more: upto < current })
}

fn stored(what: String) -> ApiError {
    tracing::error!(what, "a stored observation does not parse");
    ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "a stored observation is unreadable (see the server log)",
    )
}
