//! The HTTPS link to the clinic server: TLS that trusts exactly the certificate pinned at
//! enrolment (by its SHA-256; no certificate authority is consulted, so a self-signed server
//! certificate is as good as any), and requests signed with the workstation's key.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::de::DeserializeOwned;
use uuid::Uuid;
use vigil_protocol::wire::ErrorBody;
use vigil_protocol::wire::sign::{
    self, DeviceKey, HEADER_CLINIC, HEADER_SIGNATURE, HEADER_TIME, HEADER_WORKSTATION,
};

/// Why a request to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No connection: the network, the server down, DNS, a timeout. Retried later.
    #[error("the clinic server is unreachable ({0})")]
    Offline(String),
    /// The server presented another certificate than the one pinned at enrolment.
    #[error(
        "the server's certificate is not the one pinned at enrolment: refusing to talk to it (IT can re-enrol this workstation)"
    )]
    WrongCertificate,
    /// The server answered with a refusal.
    #[error("the clinic server refused: {message} (HTTP {status})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's words.
        message: String,
    },
    /// The server's answer does not parse.
    #[error("the clinic server's answer does not parse: {0}")]
    Garbled(String),
}

impl LinkError {
    /// Whether trying again later may succeed (as opposed to a refusal IT must look at).
    pub fn is_transient(&self) -> bool {
        match self {
            LinkError::Offline(_) => true,
            LinkError::Refused { status, .. } => *status >= 500 || *status == 429,
            LinkError::WrongCertificate | LinkError::Garbled(_) => false,
        }
    }
}

/// Trusts one certificate: the pinned one. Signatures in the handshake are still verified
/// with the provider's algorithms, so the server must hold the pinned certificate's key.
#[derive(Debug)]
struct Pinned {
    fingerprint: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        if digest.as_ref() == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(PIN_MISMATCH.into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

const PIN_MISMATCH: &str = "vigil: certificate does not match the pinned fingerprint";

/// A client for one server, pinned to one certificate.
pub struct Link {
    http: reqwest::Client,
    base: String,
}

/// Who signs: the workstation's clinic, id and key.
pub struct Signer {
    /// The clinic.
    pub clinic: Uuid,
    /// This workstation (its store id).
    pub workstation: Uuid,
    /// Its key.
    pub key: DeviceKey,
}

impl Link {
    /// A client for `base` (`https://host:port`) trusting only the certificate with SHA-256
    /// `fingerprint`.
    ///
    /// # Errors
    /// A URL that is not https, or a TLS setup failure.
    pub fn new(base: &str, fingerprint: [u8; 32], timeout: Duration) -> Result<Self, LinkError> {
        let base = base.trim_end_matches('/').to_owned();
        if !base.starts_with("https://") {
            return Err(LinkError::Refused {
                status: 0,
                message: format!("{base}: the clinic server is reached over https:// only"),
            });
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| LinkError::Offline(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Pinned { fingerprint, provider }))
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .build()
            .map_err(|e| LinkError::Offline(e.to_string()))?;
        Ok(Self { http, base })
    }

    /// POSTs an unsigned JSON body (enrolment).
    pub async fn post_unsigned<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, LinkError> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        answer(request.send().await).await
    }

    /// A signed POST of `body`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        signer: &Signer,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, LinkError> {
        let request =
            self.http.post(format!("{}{path}", self.base)).header("content-type", "application/json");
        let request = signed(request, signer, "POST", path, &body).body(body);
        answer(request.send().await).await
    }

    /// A signed GET of `path_and_query`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        signer: &Signer,
        path_and_query: &str,
    ) -> Result<T, LinkError> {
        let request = self.http.get(format!("{}{path_and_query}", self.base));
        let request = signed(request, signer, "GET", path_and_query, b"");
        answer(request.send().await).await
    }
}

fn signed(
    request: reqwest::RequestBuilder,
    signer: &Signer,
    method: &str,
    path: &str,
    body: &[u8],
) -> reqwest::RequestBuilder {
    let time = chrono::Utc::now().timestamp_millis();
    let signature = signer.key.sign(&sign::signing_input(method, path, time, body));
    request
        .header(HEADER_CLINIC, signer.clinic.to_string())
        .header(HEADER_WORKSTATION, signer.workstation.to_string())
        .header(HEADER_TIME, time.to_string())
        .header(HEADER_SIGNATURE, signature)
}

/// The body of a 2xx as `T`; a 409 as `Refused` with the body kept in `message` as JSON (the
/// push's conflict carries the acknowledged position).
async fn answer<T: DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, LinkError> {
    let response = sent.map_err(|e| {
        if format!("{e:?}").contains(PIN_MISMATCH) {
            LinkError::WrongCertificate
        } else {
            LinkError::Offline(without_url(&e))
        }
    })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| LinkError::Offline(without_url(&e)))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| LinkError::Garbled(e.to_string()));
    }
    let message = if status == reqwest::StatusCode::CONFLICT {
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).chars().take(200).collect())
    };
    Err(LinkError::Refused { status: status.as_u16(), message })
}

/// reqwest's error text, which names the URL; the URL holds nothing secret, but the source
/// chain says what failed.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}
