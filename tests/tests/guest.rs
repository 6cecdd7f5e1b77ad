//! Boots one Linux guest (Debian's kernel under QEMU, through virtme-ng, with this machine's
//! filesystem mounted read-only inside) and runs `scanline-guest-checks` there: the device
//! checks, where uinput and uhid give real input devices, and the full-disk check in one boot;
//! one boot after another for the power cuts.
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

/// The newest kernel installed in /boot.
fn kernel() -> PathBuf {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    kernels.retain(|p| p.file_name().is_some_and(|f| f.to_string_lossy().starts_with("vmlinuz-")));
    kernels.sort();
    kernels.pop().expect("a kernel in /boot (linux-image-amd64): run tests/run")
}

/// One boot of the guest: runs `script` (a shell script) with `shared` writable inside, and
/// `disk` as `/dev/vda` when given. `power_cut` is asked every 100 ms while the guest runs;
/// when it says so, QEMU is killed from outside, as a power cut. Returns the guest's exit code
/// (255 after a power cut) and how long the boot took.
fn boot(
    shared: &Path,
    script: &str,
    disk: Option<&Path>,
    mut power_cut: impl FnMut() -> bool,
) -> (i32, std::time::Duration) {
    // One guest at a time: an emulated guest takes a core, and these machines have two.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let vng = target_dir().join("vng/bin/vng");
    assert!(vng.exists(), "{} is missing: run tests/run, which installs virtme-ng", vng.display());
    let path = shared.join("guest.sh");
    std::fs::write(&path, format!("#!/bin/sh\nip link set lo up 2>/dev/null\n{script}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pidfile = shared.join("qemu.pid");
    let _ = std::fs::remove_file(&pidfile);
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
        .arg(shared)
        .arg(format!("--qemu-opts=-pidfile {}", pidfile.display()))
        .env(
            "PATH",
            format!(
                "{}:{}",
                vng.parent().unwrap().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(disk) = disk {
        cmd.arg("--disk").arg(disk);
    }
    if std::env::var("SCANLINE_GUEST_KVM").as_deref() != Ok("1") {
        cmd.arg("--disable-kvm");
    }
    let mut child = cmd.arg("--").arg(&path).spawn().expect("running vng");
    let deadline = started + std::time::Duration::from_secs(900);
    let mut cut = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the guest ran for 15 minutes");
        }
        // One cut a boot: QEMU is gone after it, while vng may take a moment more to end.
        if !cut && power_cut() {
            let pid = std::fs::read_to_string(&pidfile).expect("QEMU's pid file");
            let killed = Command::new("kill").args(["-9", pid.trim()]).status().unwrap();
            assert!(killed.success());
            cut = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    (status.code().unwrap_or(-1), started.elapsed())
}

#[test]
fn the_device_and_full_disk_tests_pass_in_a_linux_guest() {
    let shared = tempfile::Builder::new().prefix("guest-").tempdir_in(target_dir()).unwrap();
    let out = shared.path();
    // Both test binaries in one boot, each with its own log and exit code.
    let mut script = format!("cd {}\n", Path::new(env!("CARGO_MANIFEST_DIR")).display());
    let checks = scanline_tests::binary("scanline-guest-checks");
    for name in ["devices", "full_disk"] {
        script.push_str(&format!(
            "{} {} >{log} 2>&1\necho $? >{rc}\n",
            checks.display(),
            name.replace('_', "-"),
            log = out.join(format!("{name}.log")).display(),
            rc = out.join(format!("{name}.rc")).display(),
        ));
    }
    let (_, took) = boot(out, &script, None, || false);
    eprintln!("guest: boot, device and full-disk tests took {:.1} s", took.as_secs_f64());
    let expected: [(&str, &[&str]); 2] = [
        (
            "devices",
            &[
                "keyboard_wedges_scan_in_two_layouts_hold_their_grab_and_survive_a_replug",
                "hid_pos_and_swipe_readers_are_read_through_hidapi_and_survive_a_replug",
            ],
        ),
        ("full_disk", &["a_full_disk_is_a_clear_error_loses_nothing_and_recovers_by_itself"]),
    ];
    for (binary, tests) in expected {
        let log = std::fs::read_to_string(out.join(format!("{binary}.log"))).unwrap_or_default();
        let rc = std::fs::read_to_string(out.join(format!("{binary}.rc"))).unwrap_or_default();
        eprintln!("--- {binary}\n{log}");
        assert_eq!(rc.trim(), "0", "the {binary} checks failed in the guest\n{log}");
        // Every check ran and passed, not zero of them.
        for name in tests {
            assert!(log.contains(&format!("check {name}: ok")), "{name} did not pass:\n{log}");
        }
    }
}

/// How many times the power is cut.
const CUTS: usize = 3;

#[test]
fn power_cuts_lose_no_shown_scan_and_leave_both_databases_whole() {
    let checks = scanline_tests::binary("scanline-guest-checks");
    let shared = tempfile::Builder::new().prefix("power-").tempdir_in(target_dir()).unwrap();
    let out = shared.path();
    // The databases' disk: a small ext4 file system the guest mounts.
    let disk = out.join("disk.img");
    let made = Command::new("sh")
        .arg("-c")
        .arg(format!("truncate -s 256M {0} && mkfs.ext4 -q -F {0}", disk.display()))
        .status()
        .unwrap();
    assert!(made.success(), "making the disk image");
    let acked = out.join("acked.txt");
    let lines = || std::fs::read_to_string(&acked).map_or(0, |t| t.lines().count());
    // Cut at a different moment each time: after 15 to 75 more shown scans.
    let mut seed = u64::from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos(),
    ) | 1;
    eprintln!("power cuts: seed {seed}");
    let mut boots = Vec::new();
    for round in 0..=CUTS {
        let last = round == CUTS;
        let script = format!(
            "mkdir -p /tmp/data && mount -t ext4 /dev/vda /tmp/data || exit 91\n             cd {}\nexport SCANLINE_POWER_SHARED={} SCANLINE_POWER_DATA=/tmp/data              SCANLINE_POWER_LAST={}\n             {} power >>{log} 2>&1\n",
            Path::new(env!("CARGO_MANIFEST_DIR")).display(),
            out.display(),
            u8::from(last),
            checks.display(),
            log = out.join("boots.log").display(),
        );
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let cut_at = lines() + 15 + (seed % 60) as usize;
        let (rc, took) = boot(out, &script, Some(&disk), || !last && lines() >= cut_at);
        boots.push(took.as_secs_f64());
        let log = std::fs::read_to_string(out.join("boots.log")).unwrap_or_default();
        if last {
            assert_eq!(rc, 0, "the last boot's checks failed\n{log}");
        } else {
            assert!(
                lines() >= cut_at,
                "boot {round} ended before its power cut (exit {rc})\n{log}"
            );
        }
    }
    let report = std::fs::read_to_string(out.join("report.txt")).unwrap_or_default();
    eprintln!(
        "power cuts: {CUTS} cuts, {} shown scans, boots took {boots:.1?} s\n{report}",
        lines()
    );
    assert_eq!(report.lines().count(), CUTS, "every boot after a cut checked:\n{report}");
}
