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

/// A self-signed certificate for `hosts` (names or IP addresses): (certificate PEM, key PEM,
/// fingerprint).
pub fn self_signed(hosts: &[String]) -> anyhow::Result<(String, String, String)> {
    let certified = rcgen::generate_simple_self_signed(hosts.to_vec())
        .context("making the self-signed certificate")?;
    let der = certified.cert.der().to_vec();
    Ok((certified.cert.pem(), certified.key_pair.serialize_pem(), fingerprint(&der)))
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
