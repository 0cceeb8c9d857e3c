//! Shared by the integration tests.

pub(crate) mod zip_raw;

use std::path::Path;
use std::str::FromStr;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use vigil::store::StoreKey;

/// A raw SQLCipher connection below the facade, the way someone holding the key (or an older
/// Vigil) would open the file.
#[allow(dead_code)]
pub(crate) async fn raw_connection(path: &Path, key: &StoreKey, create: bool) -> SqliteConnection {
    let options = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(path)
        .create_if_missing(create)
        .pragma("key", format!("\"x'{}'\"", key.to_hex().as_str()));
    SqliteConnection::connect_with(&options).await.unwrap()
}
