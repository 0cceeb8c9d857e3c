//! A real clinic server for the sync tests: a fresh database in the throwaway PostgreSQL that
//! scripts/test.sh starts (`VIGIL_TEST_DATABASE_URL`), and the real `vigil-server` binary.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The cluster's URL, or a clear failure: these tests never assume a running PostgreSQL.
pub(crate) fn cluster_url() -> String {
    std::env::var("VIGIL_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "VIGIL_TEST_DATABASE_URL is not set: run the tests through scripts/test.sh, which starts a \
             throwaway PostgreSQL (scripts/postgres.sh start DIR prints the URL)"
        )
    })
}

/// A new, empty database on the cluster; its URL.
pub(crate) fn fresh_database() -> String {
    let base = cluster_url();
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let out =
        Command::new("psql").arg(&base).args(["-qc", &format!("CREATE DATABASE {name}")]).output().unwrap();
    assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
    let (head, _) = base.rsplit_once('/').unwrap();
    format!("{head}/{name}")
}

/// The server binary, built beside `vigil` (scripts/test.sh builds it first).
pub(crate) fn server_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_vigil")).with_file_name("vigil-server");
    assert!(
        path.exists(),
        "{} is missing: `cargo build -p vigil-server` first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// A running server.
pub(crate) struct Server {
    child: Child,
    /// `https://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// Its database.
    pub(crate) database: String,
    data_dir: PathBuf,
}

impl Server {
    /// Starts `vigil-server serve` on a free loopback port with `data_dir` for its certificate.
    pub(crate) fn start(database: &str, data_dir: &Path) -> Self {
        Self::start_on(database, data_dir, "127.0.0.1:0")
    }

    /// The same, on `listen`.
    pub(crate) fn start_on(database: &str, data_dir: &Path, listen: &str) -> Self {
        let mut child = Command::new(server_binary())
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(data_dir)
            .env("DATABASE_URL", database)
            .env("VIGIL_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr =
            line.split_whitespace().nth(2).unwrap_or_else(|| panic!("server said: {line:?}")).to_owned();
        Self {
            child,
            url: format!("https://{addr}"),
            database: database.to_owned(),
            data_dir: data_dir.to_owned(),
        }
    }

    /// The address it listens on.
    pub(crate) fn listen(&self) -> String {
        self.url.trim_start_matches("https://").to_owned()
    }

    /// Runs an IT verb against the server's database.
    pub(crate) fn admin(&self, args: &[&str]) -> Output {
        Command::new(server_binary()).args(args).env("DATABASE_URL", &self.database).output().unwrap()
    }

    /// An IT verb's JSON answer (it must succeed).
    pub(crate) fn admin_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.admin(args);
        assert!(out.status.success(), "vigil-server {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// A new clinic's id.
    pub(crate) fn clinic(&self, name: &str) -> String {
        self.admin_json(&["clinic", "create", name, "--json"])["id"].as_str().unwrap().to_owned()
    }

    /// A one-time enrolment code for `clinic`.
    pub(crate) fn code(&self, clinic: &str) -> String {
        self.admin_json(&["enroll-code", clinic, "--json"])["code"].as_str().unwrap().to_owned()
    }

    /// SIGKILL, as a crash would.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills it and starts it again on the same port, database and certificate.
    pub(crate) fn restart(&mut self) {
        self.kill();
        let listen = self.listen();
        let again = Self::start_on(&self.database, &self.data_dir.clone(), &listen);
        *self = again;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A workstation with a new encrypted store in `dir/name`, signed in as a clinician.
pub(crate) async fn workstation(dir: &Path, name: &str) -> vigil::Workstation {
    let root = dir.join(name);
    super::open(vigil::OpenOptions {
        data_dir: root.join("data"),
        key_source: Some(vigil::store::KeySource::File(root.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Clinical,
    })
    .await
}

/// A raw connection to `ws`'s store, as someone holding its key could open it.
async fn raw_store(ws: &vigil::Workstation) -> sqlx::SqliteConnection {
    let root = ws.data_dir().parent().unwrap().to_owned();
    let key = vigil::store::KeySource::File(root.join("vigil.key")).load().unwrap().unwrap();
    super::raw_connection(&root.join("data").join("vigil.db"), &key, false).await
}

/// The workstation's signing key (PKCS#8), read from its store.
pub(crate) async fn device_key(ws: &vigil::Workstation) -> Vec<u8> {
    let mut conn = raw_store(ws).await;
    sqlx::query_scalar("SELECT device_key FROM sync_state").fetch_one(&mut conn).await.unwrap()
}

/// Points a workstation at another address of the same server (a proxy in front of it).
pub(crate) async fn set_server(ws: &vigil::Workstation, url: &str) {
    let mut conn = raw_store(ws).await;
    sqlx::query("UPDATE sync_state SET server_url = ?").bind(url).execute(&mut conn).await.unwrap();
}
