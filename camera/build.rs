//! Builds the card-code reader (`../reader`) for the browser, as WebAssembly, and leaves it in
//! `OUT_DIR` for `lib.rs` to build in. It is built once into `target/reader`, whichever
//! profile or target asks for it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

// WASI rather than the bare target: the decoder asks the clock for the time of each read, which
// the bare target cannot answer, and the page answers these few WASI calls itself.
const WASM_TARGET: &str = "wasm32-wasip1";

fn main() {
    let here =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let reader = here.join("../reader");
    for path in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo::rerun-if-changed={}", reader.join(path).display());
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = target_root(&out).join("reader");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    ensure_target(&rustc);
    let mut cargo = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args(["build", "--release", "--locked", "--target", WASM_TARGET, "--manifest-path"]);
    cargo.arg(reader.join("Cargo.toml")).arg("--target-dir").arg(&target_dir);
    // The outer build's settings are for the programs, not for the browser's reader.
    for (key, _) in env::vars() {
        let outer = key.starts_with("CARGO_") && key != "CARGO_HOME"
            || ["RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "RUSTFLAGS", "RUSTDOCFLAGS"]
                .contains(&key.as_str());
        if outer {
            cargo.env_remove(key);
        }
    }
    let status = cargo.status().expect("running cargo to build the card-code reader");
    assert!(status.success(), "building the card-code reader for {WASM_TARGET} failed");
    let wasm = target_dir.join(WASM_TARGET).join("release/scanline_reader.wasm");
    std::fs::copy(&wasm, out.join("scanline_reader.wasm")).expect("copying the reader");
}

/// The directory cargo builds into (it marks it with `CACHEDIR.TAG`), above `OUT_DIR`.
fn target_root(out: &Path) -> PathBuf {
    out.ancestors().find(|dir| dir.join("CACHEDIR.TAG").is_file()).unwrap_or(out).to_path_buf()
}

/// Adds the WebAssembly target to the toolchain when it is missing, so a machine with only
/// rustup and the toolchain builds everything.
fn ensure_target(rustc: &str) {
    let libdir = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if libdir.is_some_and(|d| d.is_dir()) {
        return;
    }
    let added = Command::new("rustup").args(["target", "add", WASM_TARGET]).status();
    assert!(
        added.is_ok_and(|s| s.success()),
        "the {WASM_TARGET} target is missing and `rustup target add {WASM_TARGET}` failed"
    );
}
