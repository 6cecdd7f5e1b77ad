//! How the station trusts the server (DESIGN §13): by default the operating system's
//! certificate authorities and the public ones bundled with the station; or only the CA (or self-signed certificate) in
//! `ca_file`; or only the one certificate whose SHA-256 fingerprint is `pin_sha256`. Anything
//! else is refused, and the kiosk says why.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use scanline_core::fingerprint::Fingerprint;

use crate::config::Trust;

/// Words every refusal of the server's certificate carries, so the kiosk can tell it apart
/// from an unreachable server.
pub const UNTRUSTED: &str = "certificate is not trusted";

/// Accepts exactly one certificate, by fingerprint, whatever signed it.
#[derive(Debug)]
struct Pinned {
    pin: Fingerprint,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = Fingerprint::of(end_entity.as_ref());
        if got == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's {UNTRUSTED}: its SHA-256 fingerprint is {}, and this station is \
                 pinned to {}",
                got, self.pin
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The HTTP client the station talks to the server with, trusting what `trust` says.
///
/// A station that trusts one certificate (pinned, or its own `ca_file`) checks it on every
/// request: it keeps no idle connection and resumes no TLS session, so each request makes a
/// new handshake and meets the verifier. When the server's certificate changes, the very next
/// request sees it; an open connection can never carry on under a certificate the station
/// would refuse. (On a LAN a handshake costs a few milliseconds; a station sends a request
/// every few seconds at most.)
pub fn http_client(trust: &Trust, timeout: std::time::Duration) -> anyhow::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout);
    let builder = match trust {
        Trust::Pinned(pin) => {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
                .with_safe_default_protocol_versions()
                .context("TLS protocol versions")?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pinned { pin: *pin, provider }))
                .with_no_client_auth();
            config.resumption = rustls::client::Resumption::disabled();
            builder.use_preconfigured_tls(config).pool_max_idle_per_host(0)
        }
        Trust::CaFile(ca) => with_ca_file(builder, ca)?.pool_max_idle_per_host(0),
        Trust::System => builder,
    };
    builder.build().context("building the HTTP client")
}

/// Trusts only the certificate authorities in a PEM file.
fn with_ca_file(
    builder: reqwest::ClientBuilder,
    ca: &std::path::Path,
) -> anyhow::Result<reqwest::ClientBuilder> {
    {
        let pem = std::fs::read(ca).with_context(|| format!("reading ca_file {}", ca.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("ca_file {} holds no PEM certificate", ca.display()))?;
        if certs.is_empty() {
            bail!("ca_file {} holds no PEM certificate", ca.display());
        }
        let mut b = builder.tls_built_in_root_certs(false);
        for c in certs {
            b = b.add_root_certificate(c);
        }
        Ok(b)
    }
}

/// Whether a failed request failed on the server's certificate, and the words to show.
pub fn untrusted(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let text = s.to_string();
        if text.contains(UNTRUSTED) {
            return Some(text.trim_start_matches("general error: ").to_owned());
        }
        if text.contains("invalid peer certificate") || text.contains("UnknownIssuer") {
            return Some(format!(
                "the server's {UNTRUSTED}: {text}. Check ca_file or pin_sha256 in the \
                 station's configuration"
            ));
        }
        source = s.source();
    }
    None
}
