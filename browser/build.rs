//! Builds what the pages run as WebAssembly and leaves it in `OUT_DIR` for `lib.rs` to build
//! in: the card-code reader (`../reader`, its own workspace) and the phone station's rules
//! (`../phone`, a member of this workspace). Each is built once into its own directory under
//! the target directory, whichever profile or target asks for it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The reader is built for WASI rather than the bare target: the decoder asks the clock for the
/// time of each read, which the bare target cannot answer, and the page answers these few WASI
/// calls itself.
const READER_TARGET: &str = "wasm32-wasip1";
/// The phone's rules ask nothing of the browser: the bare target, no imports at all.
const PHONE_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let here =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = here.join("..");
    for path in
        ["reader/src", "reader/Cargo.toml", "reader/Cargo.lock", "phone", "core", "Cargo.lock"]
    {
        println!("cargo::rerun-if-changed={}", root.join(path).display());
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = target_root(&out);
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());

    ensure_target(&rustc, READER_TARGET);
    let dir = target.join("reader");
    build(&[
        "--release",
        "--target",
        READER_TARGET,
        "--manifest-path",
        &root.join("reader/Cargo.toml").to_string_lossy(),
        "--target-dir",
        &dir.to_string_lossy(),
    ]);
    copy(&dir.join(READER_TARGET).join("release/scanline_reader.wasm"), &out.join("reader.wasm"));

    ensure_target(&rustc, PHONE_TARGET);
    let dir = target.join("wasm");
    build(&[
        "--profile",
        "wasm",
        "--target",
        PHONE_TARGET,
        "-p",
        "scanline-phone",
        "--manifest-path",
        &root.join("Cargo.toml").to_string_lossy(),
        "--target-dir",
        &dir.to_string_lossy(),
    ]);
    copy(&dir.join(PHONE_TARGET).join("wasm/scanline_phone.wasm"), &out.join("phone.wasm"));
}

/// `cargo build --locked` with the given arguments, without the outer build's settings (they
/// are for the programs, not for the browser).
fn build(args: &[&str]) {
    let mut cargo = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args(["build", "--locked"]).args(args);
    for (key, _) in env::vars() {
        let outer = key.starts_with("CARGO_") && key != "CARGO_HOME"
            || ["RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "RUSTFLAGS", "RUSTDOCFLAGS"]
                .contains(&key.as_str());
        if outer {
            cargo.env_remove(key);
        }
    }
    let status = cargo.status().expect("running cargo to build the WebAssembly");
    assert!(status.success(), "cargo build {} failed", args.join(" "));
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
}

/// The directory cargo builds into (it marks it with `CACHEDIR.TAG`), above `OUT_DIR`.
fn target_root(out: &Path) -> PathBuf {
    out.ancestors().find(|dir| dir.join("CACHEDIR.TAG").is_file()).unwrap_or(out).to_path_buf()
}

/// Adds a WebAssembly target to the toolchain when it is missing, so a machine with only
/// rustup and the toolchain builds everything.
fn ensure_target(rustc: &str, target: &str) {
    let libdir = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if libdir.is_some_and(|d| d.is_dir()) {
        return;
    }
    let added = Command::new("rustup").args(["target", "add", target]).status();
    assert!(
        added.is_ok_and(|s| s.success()),
        "the {target} target is missing and `rustup target add {target}` failed"
    );
}
