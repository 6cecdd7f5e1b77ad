//! Boots one Linux guest (Debian's kernel under QEMU, through virtme-ng, with this machine's
//! filesystem mounted read-only inside) and runs the device tests of `tests/tests/devices.rs`
//! there, where uinput and uhid give real input devices. One boot serves every device test.
//!
//! The guest runs under QEMU's emulation: KVM on these machines hangs the guest, so it is used
//! only when `SCANLINE_GUEST_KVM=1` says it works. `tests/run` installs QEMU, the kernel and
//! virtme-ng (in `target/vng`).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The workspace's target folder, from the running test's path (target/debug/deps/<test>).
fn target_dir() -> PathBuf {
    std::env::current_exe().unwrap().ancestors().nth(3).unwrap().to_owned()
}

/// The newest build of a test binary, by its name.
fn test_binary(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_owned();
    std::fs::read_dir(&deps)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let f = p.file_name().unwrap().to_string_lossy().into_owned();
            f.strip_prefix(&format!("{name}-"))
                .is_some_and(|hash| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("no {name} test binary in {}", deps.display()))
}

/// The newest kernel installed in /boot.
fn kernel() -> PathBuf {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    kernels.retain(|p| p.file_name().is_some_and(|f| f.to_string_lossy().starts_with("vmlinuz-")));
    kernels.sort();
    kernels.pop().expect("a kernel in /boot (linux-image-amd64): run tests/run")
}

#[test]
fn the_device_tests_pass_in_a_linux_guest() {
    let vng = target_dir().join("vng/bin/vng");
    assert!(vng.exists(), "{} is missing: run tests/run, which installs virtme-ng", vng.display());
    let devices = test_binary("devices");
    let shared = tempfile::Builder::new().prefix("guest-").tempdir_in(target_dir()).unwrap();
    let out = shared.path();
    let script = out.join("guest.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nip link set lo up 2>/dev/null\ncd {}\n\
             {} --ignored --test-threads=1 >{log} 2>&1\necho $? >{rc}\n",
            Path::new(env!("CARGO_MANIFEST_DIR")).display(),
            devices.display(),
            log = out.join("devices.log").display(),
            rc = out.join("rc").display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    let started = Instant::now();
    let mut cmd = Command::new(&vng);
    cmd.arg("--run")
        .arg(kernel())
        .args(["--disable-microvm", "--force-9p", "--cpus", "1", "--memory", "2G"])
        // Drivers for hardware the tests do not use cost seconds of emulated boot.
        .args([
            "--append",
            "modprobe.blacklist=kvm,kvm_amd,kvm_intel,ahci,sr_mod,iTCO_wdt,lpc_ich,i2c_i801,\
             pcspkr,powernow_k8,aesni_intel,ghash_clmulni_intel,i6300esb",
        ])
        .arg("--rwdir")
        .arg(out)
        .env(
            "PATH",
            format!(
                "{}:{}",
                vng.parent().unwrap().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(Stdio::null());
    if std::env::var("SCANLINE_GUEST_KVM").as_deref() != Ok("1") {
        cmd.arg("--disable-kvm");
    }
    let boot = cmd.arg("--").arg(&script).output().expect("running vng");
    let took = started.elapsed();
    let log = std::fs::read_to_string(out.join("devices.log")).unwrap_or_default();
    let rc = std::fs::read_to_string(out.join("rc")).unwrap_or_default();
    eprintln!("guest: boot and device tests took {:.1} s\n{log}", took.as_secs_f64());
    assert_eq!(
        rc.trim(),
        "0",
        "the device tests failed in the guest (vng: {}{})\n{log}",
        String::from_utf8_lossy(&boot.stdout),
        String::from_utf8_lossy(&boot.stderr)
    );
    // Both device tests ran, not zero of them (their lines interleave with the programs' logs).
    assert!(
        log.contains("test result: ok. 2 passed; 0 failed"),
        "not both device tests passed:\n{log}"
    );
    for name in [
        "keyboard_wedges_scan_in_two_layouts_hold_their_grab_and_survive_a_replug",
        "hid_pos_and_swipe_readers_are_read_through_hidapi_and_survive_a_replug",
    ] {
        assert!(log.contains(&format!("test {name} ... ")), "{name} did not run:\n{log}");
    }
}
