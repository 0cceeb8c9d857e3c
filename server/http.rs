//! The HTTP API: enrolment, push, pull, position, health and metrics. Every endpoint but
//! enrolment, health and metrics takes a signed request ([`Signed`]) and works inside the
//! signer's clinic only: no handler takes a clinic from anywhere but the verified signer.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequest, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use sqlx::{PgPool, Row};
use uuid::Uuid;
use vigil_protocol::wire::enroll::{EnrollRequest, Enrolled};
use vigil_protocol::wire::sign::{self, HEADER_CLINIC, HEADER_SIGNATURE, HEADER_TIME, HEADER_WORKSTATION};
use vigil_protocol::wire::{ErrorBody, MAX_BODY_BYTES, MAX_ROWS_PER_REQUEST, paths};

use crate::metrics::Metrics;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub pool: PgPool,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
}

/// A refusal: a status and a message naming what was wrong.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
    /// The message, for the fuzzer's view of a refusal.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        // The database's words stay in the server's log: they can name tables and values.
        tracing::error!(error = %e, "database error");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "the clinic database is unavailable; try again later")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.message })).into_response()
    }
}

/// A request whose signature verified: the signer, and the body it signed.
pub struct Signed {
    /// The signer's clinic.
    pub clinic: Uuid,
    /// The signer.
    pub workstation: Uuid,
    /// The body, as signed.
    pub body: Bytes,
}

fn header<'a>(parts: &'a axum::http::request::Parts, name: &str) -> Result<&'a str, ApiError> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized(format!("unsigned request: header {name} is missing")))
}

impl FromRequest<AppState> for Signed {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let clinic: Uuid = header(&parts, HEADER_CLINIC)?
            .parse()
            .map_err(|_| ApiError::unauthorized(format!("header {HEADER_CLINIC} is not a UUID")))?;
        let workstation: Uuid = header(&parts, HEADER_WORKSTATION)?
            .parse()
            .map_err(|_| ApiError::unauthorized(format!("header {HEADER_WORKSTATION} is not a UUID")))?;
        let time: i64 = header(&parts, HEADER_TIME)?
            .parse()
            .map_err(|_| ApiError::unauthorized(format!("header {HEADER_TIME} is not milliseconds")))?;
        let signature = header(&parts, HEADER_SIGNATURE)?;
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            )
        })?;
        let row =
            sqlx::query("SELECT public_key, revoked_at FROM workstations WHERE clinic_id = $1 AND id = $2")
                .bind(clinic)
                .bind(workstation)
                .fetch_optional(&state.pool)
                .await?;
        let Some(row) = row else {
            return Err(ApiError::unauthorized(format!(
                "workstation {workstation} is not enrolled in clinic {clinic}"
            )));
        };
        let key: Vec<u8> = row.get("public_key");
        let path = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |p| p.as_str());
        let input = sign::signing_input(parts.method.as_str(), path, time, &body);
        sign::verify(&key, &input, signature).map_err(|e| ApiError::unauthorized(e.to_string()))?;
        let skew = (chrono::Utc::now().timestamp_millis() - time).abs();
        if skew > sign::MAX_CLOCK_SKEW_MS {
            return Err(ApiError::unauthorized(format!(
                "the request's time is {} s from the server's clock (at most {} s): check the workstation's clock",
                skew / 1000,
                sign::MAX_CLOCK_SKEW_MS / 1000
            )));
        }
        let revoked: Option<chrono::DateTime<chrono::Utc>> = row.get("revoked_at");
        if let Some(at) = revoked {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "workstation {workstation} was revoked at {at}; IT can enrol it again with a new code"
                ),
            ));
        }
        Ok(Self { clinic, workstation, body })
    }
}

/// The router, with request counting for `/metrics`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(paths::ENROLL, post(enroll))
        .route(paths::PUSH, post(push))
        .route(paths::PULL, get(pull))
        .route(paths::POSITION, get(position))
        .route(paths::HEALTH, get(health))
        .route(paths::METRICS, get(metrics))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::count))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

pub(crate) fn json_body<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("{what}: {e}")))
}

async fn enroll(State(state): State<AppState>, body: Bytes) -> Result<Json<Enrolled>, ApiError> {
    let request: EnrollRequest = json_body("enrol request", &body)?;
    let mut secret = [0u8; 16];
    hex::decode_to_slice(&request.secret, &mut secret)
        .map_err(|_| ApiError::bad_request("secret: not 32 hex digits"))?;
    let mut public_key = [0u8; 32];
    hex::decode_to_slice(&request.public_key, &mut public_key)
        .map_err(|_| ApiError::bad_request("public_key: not 64 hex digits"))?;
    if request.name.trim().is_empty() || request.name.len() > 200 {
        return Err(ApiError::bad_request("name: empty or longer than 200 characters"));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, &secret);
    let mut tx = state.pool.begin().await?;
    let code = sqlx::query(
        "SELECT e.clinic_id, e.expires_at, e.used_at, c.name FROM enroll_codes e JOIN clinics c ON c.id = e.clinic_id \
         WHERE e.secret_sha256 = $1 FOR UPDATE OF e",
    )
    .bind(digest.as_ref())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(code) = code else {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "unknown enrolment code: ask IT for a new one"));
    };
    let used: Option<chrono::DateTime<chrono::Utc>> = code.get("used_at");
    if let Some(at) = used {
        return Err(ApiError::new(
            StatusCode::GONE,
            format!("this enrolment code was already used at {at}: ask IT for a new one"),
        ));
    }
    let expires: chrono::DateTime<chrono::Utc> = code.get("expires_at");
    if expires < chrono::Utc::now() {
        return Err(ApiError::new(
            StatusCode::GONE,
            format!("this enrolment code expired at {expires}: ask IT for a new one"),
        ));
    }
    let clinic: Uuid = code.get("clinic_id");
    let other: Option<Uuid> =
        sqlx::query_scalar("SELECT clinic_id FROM workstations WHERE id = $1 AND clinic_id <> $2")
            .bind(request.workstation_id)
            .bind(clinic)
            .fetch_optional(&mut *tx)
            .await?;
    if other.is_some() {
        return Err(ApiError::new(StatusCode::CONFLICT, "this workstation is enrolled in another clinic"));
    }
    sqlx::query(
        "UPDATE enroll_codes SET used_at = now(), used_by = $3 WHERE clinic_id = $1 AND secret_sha256 = $2",
    )
    .bind(clinic)
    .bind(digest.as_ref())
    .bind(request.workstation_id)
    .execute(&mut *tx)
    .await?;
    // A workstation enrolled again (a new key after a lost one, or after a revocation) keeps
    // its acknowledged position: a restored store resumes from what the server holds.
    sqlx::query(
        "INSERT INTO workstations (clinic_id, id, name, public_key, app_version) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (clinic_id, id) DO UPDATE SET name = EXCLUDED.name, public_key = EXCLUDED.public_key, \
         app_version = EXCLUDED.app_version, revoked_at = NULL, enrolled_at = now()",
    )
    .bind(clinic)
    .bind(request.workstation_id)
    .bind(request.name.trim())
    .bind(public_key.as_slice())
    .bind(&request.app_version)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(%clinic, workstation = %request.workstation_id, "workstation enrolled");
    Ok(Json(Enrolled {
        clinic_id: clinic,
        clinic_name: code.get("name"),
        workstation_id: request.workstation_id,
    }))
}

async fn push(State(state): State<AppState>, signed: Signed) -> Result<Response, ApiError> {
    let started = Instant::now();
    let decoded = crate::push::decode(&signed.body)?;
    let outcome = crate::push::apply(&state.pool, signed.clinic, signed.workstation, &decoded).await?;
    state.metrics.pushed(started.elapsed(), &outcome);
    Ok(match outcome {
        crate::push::Outcome::Applied(ack) => Json(ack).into_response(),
        crate::push::Outcome::Conflict(ack) => (StatusCode::CONFLICT, Json(ack)).into_response(),
    })
}

/// `?after=VERSION&limit=N`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PullQuery {
    after: i64,
    limit: Option<usize>,
}

async fn pull(
    State(state): State<AppState>,
    Query(query): Query<PullQuery>,
    signed: Signed,
) -> Result<Json<vigil_protocol::wire::pull::PullPage>, ApiError> {
    if query.after < 0 {
        return Err(ApiError::bad_request("after: a version is never negative"));
    }
    let limit = query.limit.unwrap_or(MAX_ROWS_PER_REQUEST).clamp(1, MAX_ROWS_PER_REQUEST);
    let page = crate::pull::page(&state.pool, signed.clinic, signed.workstation, query.after, limit).await?;
    Ok(Json(page))
}

async fn position(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Json<vigil_protocol::wire::push::PushAck>, ApiError> {
    Ok(Json(crate::push::acknowledged(&state.pool, signed.clinic, signed.workstation).await?))
}

async fn health(State(state): State<AppState>) -> Response {
    match sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render(&state.pool).await {
        Ok(text) => ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
