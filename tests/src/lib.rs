//! Helpers for Scanline's end-to-end tests: the real `scanline-server` binary started as a
//! child process on an ephemeral loopback port, killed on drop, and a small HTTP client.
//!
//! The binaries must be built first (`cargo build --workspace --bins`, which the test script
//! does); a missing binary fails the test with that instruction rather than skipping it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Path of a workspace binary next to the running test executable.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` before the end-to-end tests",
        path.display()
    );
    path
}

/// Runs `scanline-server` with arguments to completion; returns (success, stdout, stderr).
pub fn server_cli(db: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary("scanline-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SCANLINE_DB")
        .output()
        .expect("running scanline-server");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running server process. Dropping it kills the process.
pub struct ServerProcess {
    child: Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts `scanline-server` with `args` (which must make it listen on 127.0.0.1:0) and
    /// waits for its "listening on" line.
    pub fn start(db: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(binary("scanline-server"))
            .arg("--db")
            .arg(db)
            .args(args)
            .env_remove("SCANLINE_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting scanline-server");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let Ok(base) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("scanline-server did not start listening");
        };
        Self { child, base }
    }

    /// SIGKILL: no shutdown code runs, like a power cut for the process.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A station's HTTP client: bearer token and JSON.
#[derive(Clone)]
pub struct StationClient {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl StationClient {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            base: base.to_owned(),
            token: token.trim().to_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Result<(u16, serde_json::Value)> {
        let resp =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(serde_json::Value::Null)))
    }

    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Result<(u16, serde_json::Value)> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(serde_json::Value::Null)))
    }
}
