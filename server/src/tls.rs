//! TLS for the server (DESIGN §13): rustls with the certificate and key from PEM files, reloaded
//! when either file changes (a renewed certificate needs no restart), and a self-signed
//! certificate for a LAN install, whose SHA-256 fingerprint a station can pin.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use axum_server::tls_rustls::RustlsConfig;

/// How often the certificate files are looked at for a change.
pub const RELOAD_CHECK_EVERY: Duration = Duration::from_secs(10);

/// Installs the process's TLS crypto (ring); harmless when done twice.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The server's TLS settings, read from the PEM files; a clear error names what is wrong.
pub async fn load(cert: &Path, key: &Path) -> anyhow::Result<RustlsConfig> {
    install_crypto();
    RustlsConfig::from_pem_file(cert, key).await.with_context(|| {
        format!(
            "the TLS certificate {} or key {} cannot be used (both must be PEM, the key \
             matching the certificate)",
            cert.display(),
            key.display()
        )
    })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Reloads the certificate and key whenever either file changes, until the task is dropped. A
/// change that cannot be loaded is logged and the current certificate stays in use.
pub async fn reload_loop(config: RustlsConfig, cert: PathBuf, key: PathBuf) {
    let mut seen = (modified(&cert), modified(&key));
    let mut tick = tokio::time::interval(RELOAD_CHECK_EVERY);
    loop {
        tick.tick().await;
        let now = (modified(&cert), modified(&key));
        if now == seen {
            continue;
        }
        seen = now;
        match config.reload_from_pem_file(&cert, &key).await {
            Ok(()) => tracing::info!(cert = %cert.display(), "TLS certificate reloaded"),
            Err(e) => tracing::error!(
                error = %e,
                "the changed TLS certificate cannot be loaded; the previous one stays in use"
            ),
        }
    }
}

/// SHA-256 of a DER certificate, as colon-separated upper-case hex (how browsers show it).
pub fn fingerprint(der: &[u8]) -> String {
    scanline_core::fingerprint::Fingerprint::of(der).to_string()
}

/// How long a self-signed certificate is valid: under the 398 days the strictest browsers
/// accept for a server certificate. Renew it by making new files and moving them into place;
/// the server reloads a changed certificate.
pub const SELF_SIGNED_DAYS: i64 = 397;

/// A self-signed certificate for `hosts` (DNS names or IP addresses; the first is its subject),
/// valid from a day ago (a clock a little behind still accepts it) for `SELF_SIGNED_DAYS`.
/// Returns the certificate and key as PEM and the certificate's SHA-256 fingerprint, which
/// stations pin.
pub fn self_signed(hosts: &[String]) -> anyhow::Result<(String, String, String)> {
    let subject = hosts.first().context("name at least one host for the certificate")?;
    let mut params = rcgen::CertificateParams::new(hosts.to_vec())
        .context("a host name for the certificate is not valid")?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, subject.as_str());
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Scanline");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = rcgen::KeyPair::generate().context("making the certificate's key")?;
    let cert = params.self_signed(&key).context("making the self-signed certificate")?;
    Ok((cert.pem(), key.serialize_pem(), fingerprint(cert.der())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_names_its_hosts_and_has_a_stable_fingerprint() {
        let (cert, key, fp) = self_signed(&["scanline.lan".into(), "192.0.2.10".into()]).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(key.contains("PRIVATE KEY"));
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.bytes().all(|b| b == b':' || b.is_ascii_hexdigit()));
        let (_, _, other) = self_signed(&["scanline.lan".into()]).unwrap();
        assert_ne!(fp, other, "a new key each time");
    }
}
