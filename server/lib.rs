//! The Vigil clinic server: the workstations of a clinic push their outboxes here and pull each
//! other's changes, over TLS, with every request signed by the workstation's own key.
//!
//! It keeps nothing outside PostgreSQL but its TLS certificate and key, so several instances
//! can serve one database behind a load balancer. The wire types come from `vigil-protocol`,
//! which the workstation shares; nothing here links WebKit, SQLCipher or ONNX Runtime.

pub mod admin;
pub mod http;
pub mod metrics;
mod pull;
mod push;
pub mod tls;

/// The server's migrations, applied by `vigil-server init` (and by `serve` at start).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Decodes a push request body as the server does before it touches the database, for the
/// fuzzer (`fuzz/fuzz_targets/push_body.rs`): the observation rows it holds, or the refusal.
///
/// # Errors
/// The message a workstation would get with its 4xx.
pub fn decode_push(body: &[u8]) -> Result<u64, String> {
    push::decode(body).map(|d| d.rows()).map_err(|e| e.message().to_owned())
}

/// Connects to PostgreSQL.
///
/// # Errors
/// When the URL is malformed or the database does not answer.
pub async fn connect(url: &str) -> Result<sqlx::PgPool, sqlx::Error> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(url)
        .await
}
