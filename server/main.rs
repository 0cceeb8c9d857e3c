//! `vigil-server`: the clinic server and IT's verbs for it. Every verb takes `--database-url`
//! (or `DATABASE_URL`); only `serve` needs the data directory (its TLS certificate and key).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use uuid::Uuid;
use vigil_server::{admin, http, metrics, tls};

#[derive(Parser)]
#[command(name = "vigil-server", version, about = "The Vigil clinic server")]
struct Cli {
    /// PostgreSQL, e.g. postgres://vigil@127.0.0.1/vigil.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Subcommand)]
enum Verb {
    /// Creates or upgrades the server's tables.
    Init,
    /// Serves workstations over TLS.
    Serve {
        /// Address to listen on (port 0: any free port, printed at start).
        #[arg(long, default_value = "0.0.0.0:8443")]
        listen: SocketAddr,
        /// Holds cert.pem and key.pem (made, self-signed, when both are missing). Nothing else.
        #[arg(long, default_value = "/var/lib/vigil-server")]
        data_dir: PathBuf,
    },
    /// Clinics.
    Clinic {
        #[command(subcommand)]
        verb: ClinicVerb,
    },
    /// Makes a one-time enrolment code for a workstation of CLINIC.
    EnrollCode {
        /// The clinic's id.
        clinic: Uuid,
        /// How long the code stays valid, in hours.
        #[arg(long, default_value_t = 24)]
        valid_hours: i64,
        /// Prints {"code", "expires_at"}.
        #[arg(long)]
        json: bool,
    },
    /// Lists enrolled workstations: last seen, acknowledged position, lag, versions.
    Workstations {
        /// Only this clinic's.
        #[arg(long)]
        clinic: Option<Uuid>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Refuses a workstation's requests from now on.
    Revoke {
        /// The workstation's id.
        workstation: Uuid,
    },
    /// Model packages.
    Packages {
        #[command(subcommand)]
        verb: PackageVerb,
    },
}

#[derive(Subcommand)]
enum ClinicVerb {
    /// Creates a clinic and prints its id.
    Create {
        /// Its name.
        name: String,
        /// Prints {"id"}.
        #[arg(long)]
        json: bool,
    },
    /// Lists the clinics.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PackageVerb {
    /// Publishes a signed model package to a clinic's workstations.
    Publish {
        /// The package file.
        file: PathBuf,
        /// The clinic's id.
        #[arg(long)]
        clinic: Uuid,
        /// Prints {"sha256"}.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG").unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(url) = cli.database_url else {
        anyhow::bail!("no database: give --database-url URL or set DATABASE_URL");
    };
    let pool =
        vigil_server::connect(&url).await.map_err(|e| anyhow::anyhow!("cannot reach the database: {e}"))?;
    match cli.verb {
        Verb::Init => {
            vigil_server::MIGRATOR.run(&pool).await?;
            println!("database ready");
        }
        Verb::Serve { listen, data_dir } => serve(pool, listen, &data_dir).await?,
        Verb::Clinic { verb: ClinicVerb::Create { name, json } } => {
            let id = admin::create_clinic(&pool, &name).await?;
            if json {
                print_json(&serde_json::json!({ "id": id }));
            } else {
                println!("{id}");
            }
        }
        Verb::Clinic { verb: ClinicVerb::List { json } } => {
            let clinics = admin::clinics(&pool).await?;
            if json {
                print_json(&serde_json::to_value(&clinics)?);
            } else {
                for c in clinics {
                    println!("{}  {}  version {}", c.id, c.name, c.version);
                }
            }
        }
        Verb::EnrollCode { clinic, valid_hours, json } => {
            if !(1..=24 * 30).contains(&valid_hours) {
                anyhow::bail!("--valid-hours: {valid_hours} is outside 1..=720");
            }
            let (code, expires) =
                admin::enroll_code(&pool, clinic, chrono::Duration::hours(valid_hours)).await?;
            if json {
                print_json(&serde_json::json!({ "code": code.to_string(), "expires_at": expires }));
            } else {
                println!("{code}\n(one use, valid until {expires})");
            }
        }
        Verb::Workstations { clinic, json } => {
            let list = admin::workstations(&pool, clinic).await?;
            if json {
                print_json(&serde_json::to_value(&list)?);
            } else {
                for w in list {
                    println!(
                        "{}  {}  {}  acknowledged {}/{}  lag {} versions  last seen {}",
                        w.id,
                        w.name,
                        if w.revoked_at.is_some() { "REVOKED" } else { "active" },
                        w.acknowledged.message,
                        w.acknowledged.row,
                        w.lag_versions,
                        w.last_seen.map_or_else(|| "never".to_owned(), |t| t.to_rfc3339()),
                    );
                }
            }
        }
        Verb::Revoke { workstation } => {
            admin::revoke(&pool, workstation).await?;
            println!("revoked {workstation}");
        }
        Verb::Packages { verb: PackageVerb::Publish { file, clinic, json } } => {
            let sha = admin::publish_package(&pool, &file, clinic).await?;
            if json {
                print_json(&serde_json::json!({ "sha256": sha }));
            } else {
                println!("published {} ({sha})", file.display());
            }
        }
    }
    Ok(())
}

async fn serve(pool: sqlx::PgPool, listen: SocketAddr, data_dir: &std::path::Path) -> anyhow::Result<()> {
    vigil_server::MIGRATOR.run(&pool).await?;
    let identity = tls::load_or_create(data_dir)?;
    sqlx::query(
        "INSERT INTO server_certificates (fingerprint) VALUES ($1) \
         ON CONFLICT (fingerprint) DO UPDATE SET last_seen = now()",
    )
    .bind(&identity.fingerprint)
    .execute(&pool)
    .await?;
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("{listen}: {e}"))?;
    let bound = listener.local_addr()?;
    // One line on stdout for scripts and tests: where, and which certificate.
    println!("listening on {bound} fingerprint {}", identity.fingerprint);
    tracing::info!(%bound, fingerprint = %identity.fingerprint, "serving");
    let state = http::AppState { pool, metrics: Arc::new(metrics::Metrics::default()) };
    let shutdown = async {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "no SIGTERM handler");
                std::future::pending::<()>().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
        tracing::info!("stopping");
    };
    tls::serve(listener, identity.acceptor, http::router(state), shutdown).await;
    Ok(())
}
