//! TLS, always: IT's certificate (`cert.pem` and `key.pem` in the data directory), or a
//! self-signed one made at first start. Workstations pin the certificate by the SHA-256 of its
//! DER encoding, which travels in the enrolment code, so a self-signed certificate is as safe
//! as one from a CA and needs no CA at all.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The certificate file in the data directory.
pub const CERT_FILE: &str = "cert.pem";
/// The private key file in the data directory (owner-only).
pub const KEY_FILE: &str = "key.pem";

/// The server's TLS identity.
pub struct Identity {
    /// The acceptor for incoming connections.
    pub acceptor: TlsAcceptor,
    /// SHA-256 of the certificate's DER, hex: what workstations pin.
    pub fingerprint: String,
}

/// SHA-256 of a certificate's DER encoding, hex.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, cert.as_ref()).as_ref())
}

/// Loads `cert.pem` and `key.pem` from `data_dir`, making a self-signed pair first when neither
/// is there.
///
/// # Errors
/// One file without the other, unreadable or malformed PEM, or a key rustls refuses.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Identity> {
    let cert_path = data_dir.join(CERT_FILE);
    let key_path = data_dir.join(KEY_FILE);
    match (cert_path.exists(), key_path.exists()) {
        (false, false) => create(data_dir, &cert_path, &key_path)?,
        (true, true) => {}
        _ => anyhow::bail!(
            "{} holds one of {CERT_FILE} and {KEY_FILE} but not the other: give both (IT's certificate) or neither (a self-signed one is made)",
            data_dir.display()
        ),
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", cert_path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{}: {e}", cert_path.display()))?;
    let Some(leaf) = chain.first() else {
        anyhow::bail!("{}: no certificate in it", cert_path.display());
    };
    let fingerprint = fingerprint(leaf);
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| anyhow::anyhow!("{} and {}: {e}", cert_path.display(), key_path.display()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Identity { acceptor: TlsAcceptor::from(Arc::new(config)), fingerprint })
}

fn create(data_dir: &Path, cert_path: &Path, key_path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if !host.is_empty() {
        names.push(host);
    }
    let made = rcgen::generate_simple_self_signed(names)?;
    write_private(key_path, made.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(cert_path, made.cert.pem())?;
    tracing::info!(path = %cert_path.display(), "made a self-signed certificate");
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Serves `app` over TLS on `listener` until `shutdown` resolves. A connection whose handshake
/// fails or stalls (10 s) is dropped without disturbing the others.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        // Each request runs in its own task, to completion, even when its client goes away:
        // hyper drops a request's future when the connection closes, and a push dropped in
        // the middle of its COPY would leave the database connection broken for the next
        // request that takes it from the pool (seen as 503s and false 401s after a client was
        // killed mid-push). A spawned task commits or rolls back.
        let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let mut app = app.clone();
            async move {
                let handled =
                    tokio::spawn(async move { tower::Service::call(&mut app, request).await }).await;
                match handled {
                    Ok(response) => response,
                    Err(e) => {
                        tracing::error!(error = %e, "a request's task failed");
                        let mut failed =
                            axum::response::Response::new(axum::body::Body::from("internal error\n"));
                        *failed.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                        Ok(failed)
                    }
                }
            }
        });
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let served = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
