//! `/metrics` in the Prometheus text format (version 0.0.4): requests by endpoint and status,
//! push latency as a histogram, rows ingested, and per workstation the versions it has not
//! pulled and the seconds since it was last seen (read from the database at scrape time, so
//! every instance behind a load balancer reports the same).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use sqlx::PgPool;

use crate::http::AppState;
use crate::push::Outcome;

/// Upper bounds of the push-latency buckets, seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    push_buckets: [AtomicU64; BUCKETS.len()],
    push_count: AtomicU64,
    push_micros: AtomicU64,
    rows_inserted: AtomicU64,
    rows_duplicate: AtomicU64,
    conflicts: AtomicU64,
}

/// Counts every request by its route and status.
pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let known = ["/v1/enroll", "/v1/push", "/v1/pull", "/v1/position", "/health", "/metrics"];
    let route = if known.contains(&path.as_str()) { path } else { "other".to_owned() };
    if let Ok(mut requests) = state.metrics.requests.lock() {
        *requests.entry((route, response.status().as_u16())).or_default() += 1;
    }
    response
}

impl Metrics {
    pub(crate) fn pushed(&self, took: Duration, outcome: &Outcome) {
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.push_buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.push_count.fetch_add(1, Ordering::Relaxed);
        self.push_micros.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
        match outcome {
            Outcome::Applied(ack) => {
                self.rows_inserted.fetch_add(ack.inserted, Ordering::Relaxed);
                self.rows_duplicate.fetch_add(ack.duplicates, Ordering::Relaxed);
            }
            Outcome::Conflict(_) => {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The text a scrape gets.
    ///
    /// # Errors
    /// The database, for the per-workstation figures.
    pub async fn render(&self, pool: &PgPool) -> Result<String, sqlx::Error> {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP vigil_requests_total HTTP requests by route and status.");
        let _ = writeln!(out, "# TYPE vigil_requests_total counter");
        if let Ok(requests) = self.requests.lock() {
            for ((route, status), n) in requests.iter() {
                let _ = writeln!(out, "vigil_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
            }
        }
        let _ = writeln!(out, "# HELP vigil_push_seconds Time to apply and acknowledge a push.");
        let _ = writeln!(out, "# TYPE vigil_push_seconds histogram");
        for (bucket, bound) in self.push_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "vigil_push_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.push_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "vigil_push_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ =
            writeln!(out, "vigil_push_seconds_sum {}", self.push_micros.load(Ordering::Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "vigil_push_seconds_count {count}");
        let _ = writeln!(out, "# HELP vigil_rows_ingested_total Observations stored by pushes (new rows).");
        let _ = writeln!(out, "# TYPE vigil_rows_ingested_total counter");
        let _ = writeln!(out, "vigil_rows_ingested_total {}", self.rows_inserted.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# HELP vigil_rows_duplicate_total Observations pushed that the clinic already held."
        );
        let _ = writeln!(out, "# TYPE vigil_rows_duplicate_total counter");
        let _ = writeln!(out, "vigil_rows_duplicate_total {}", self.rows_duplicate.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# HELP vigil_push_conflicts_total Pushes refused with 409 (not at the acknowledged position)."
        );
        let _ = writeln!(out, "# TYPE vigil_push_conflicts_total counter");
        let _ = writeln!(out, "vigil_push_conflicts_total {}", self.conflicts.load(Ordering::Relaxed));
        let rows: Vec<(uuid::Uuid, uuid::Uuid, i64, Option<f64>)> = sqlx::query_as(
            "SELECT w.clinic_id, w.id, greatest(c.version - w.pulled_version, 0), \
             extract(epoch FROM now() - w.last_seen)::float8 FROM workstations w JOIN clinics c ON c.id = w.clinic_id \
             WHERE w.revoked_at IS NULL ORDER BY w.clinic_id, w.id",
        )
        .fetch_all(pool)
        .await?;
        let _ = writeln!(
            out,
            "# HELP vigil_workstation_lag_versions Clinic versions a workstation has not pulled."
        );
        let _ = writeln!(out, "# TYPE vigil_workstation_lag_versions gauge");
        for (clinic, id, lag, _) in &rows {
            let _ = writeln!(
                out,
                "vigil_workstation_lag_versions{{clinic=\"{clinic}\",workstation=\"{id}\"}} {lag}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP vigil_workstation_last_seen_seconds Seconds since a workstation's last request."
        );
        let _ = writeln!(out, "# TYPE vigil_workstation_last_seen_seconds gauge");
        for (clinic, id, _, seen) in &rows {
            if let Some(seen) = seen {
                let _ = writeln!(
                    out,
                    "vigil_workstation_last_seen_seconds{{clinic=\"{clinic}\",workstation=\"{id}\"}} {seen:.3}"
                );
            }
        }
        Ok(out)
    }
}
