//! Shared by the integration tests.

#[allow(dead_code)]
pub(crate) mod clinic;
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
    vigil::store::sqlite_ready().await.unwrap();
    SqliteConnection::connect_with(&options).await.unwrap()
}

/// The password of every account the tests make.
#[allow(dead_code)]
pub(crate) const PASSWORD: &str = "correct horse battery staple";

#[allow(dead_code)]
pub(crate) fn password() -> vigil::workstation::Secret {
    vigil::workstation::Secret::new(PASSWORD.to_owned())
}

/// Opens a workstation and signs in as a clinician (`test-clinician`), making the store's
/// first administrator and that account when they are not there yet: every facade call needs
/// someone signed in with a role allowed to make it.
#[allow(dead_code)]
pub(crate) async fn open(options: vigil::workstation::OpenOptions) -> vigil::Workstation {
    let ws = vigil::Workstation::open(options).await.unwrap();
    sign_in_as(&ws, vigil::domain::access::Role::Clinician).await;
    ws
}

/// Signs `ws` in as `test-<role>`, creating the account (and the first administrator,
/// `test-admin`) when needed.
#[allow(dead_code)]
pub(crate) async fn sign_in_as(ws: &vigil::Workstation, role: vigil::domain::access::Role) {
    use vigil::workstation::Error;
    let name = format!("test-{}", role.as_str());
    if !ws.has_users().await.unwrap() {
        ws.create_first_admin("test-admin", password()).await.unwrap();
    }
    match ws.sign_in(&name, password()).await {
        Ok(_) => return,
        Err(Error::SignInFailed) => {}
        Err(e) => panic!("signing in as {name}: {e}"),
    }
    ws.sign_in("test-admin", password()).await.unwrap();
    ws.add_user(&name, role, password()).await.unwrap();
    ws.sign_in(&name, password()).await.unwrap();
}

/// The role `ws` is signed in as.
#[allow(dead_code)]
pub(crate) fn current_role(ws: &vigil::Workstation) -> vigil::domain::access::Role {
    ws.session_info().expect("signed in").role
}

/// Runs one facade call as another role (an auditor reading the outbox or the trail, an
/// administrator changing a setting), then signs back in as the role before.
#[allow(unused_macros)]
macro_rules! as_role {
    ($ws:expr, $role:ident, $call:expr) => {{
        let back = common::current_role($ws);
        common::sign_in_as($ws, vigil::domain::access::Role::$role).await;
        let result = $call;
        common::sign_in_as($ws, back).await;
        result
    }};
}

/// Runs the `vigil` binary on the store in `data_dir` with its key in `key_file`, feeding
/// `stdin`.
#[allow(dead_code)]
pub(crate) fn cli(data_dir: &Path, key_file: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env("VIGIL_DATA_DIR", data_dir)
        .env(vigil::store::KEY_FILE_ENV, key_file)
        .env("RUST_LOG", "off")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Opens a command-line session as `test-<role>` on the store in `data_dir` (`vigil login`,
/// password on standard input), creating the store with its first administrator and the
/// account when they are not there: the way IT's scripts do it.
#[allow(dead_code)]
pub(crate) fn cli_login(data_dir: &Path, key_file: &Path, role: vigil::domain::access::Role) {
    let name = format!("test-{}", role.as_str());
    let line = format!("{PASSWORD}\n");
    if cli(data_dir, key_file, &["login", &name], &line).status.success() {
        return;
    }
    if !data_dir.join(vigil::workstation::STORE_FILE).exists() {
        let out = cli(data_dir, key_file, &["init", "--admin", "test-admin"], &line);
        assert!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = cli(data_dir, key_file, &["login", "test-admin"], &line);
    assert!(out.status.success(), "login test-admin: {}", String::from_utf8_lossy(&out.stderr));
    if role != vigil::domain::access::Role::Admin {
        let out = cli(data_dir, key_file, &["user", "add", &name, "--role", role.as_str()], &line);
        assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
        let out = cli(data_dir, key_file, &["login", &name], &line);
        assert!(out.status.success(), "login {name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
