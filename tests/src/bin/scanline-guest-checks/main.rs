//! `scanline-guest-checks`: the checks that need a Linux kernel of their own, run inside the
//! guest that `tests/tests/guest.rs` boots (they need `/dev/uinput`, `/dev/uhid`, root to
//! mount file systems, or the guest's virtual disk). `scanline-guest-checks devices` runs the
//! device checks, `full-disk` the full-disk one and `power` one boot of the power-cut test.
//! Each check prints `check NAME: ok` when it passes; any failure exits non-zero with the
//! panic's message, which the host test reports.

mod devices;
mod full_disk;
mod power;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

type Check = (&'static str, fn() -> Pin<Box<dyn Future<Output = ()>>>);

fn checks(group: &str) -> Vec<Check> {
    match group {
        "devices" => vec![
            ("keyboard_wedges_scan_in_two_layouts_hold_their_grab_and_survive_a_replug", || {
                Box::pin(devices::keyboard_wedges_scan_in_two_layouts_hold_their_grab_and_survive_a_replug())
            }),
            ("hid_pos_and_swipe_readers_are_read_through_hidapi_and_survive_a_replug", || {
                Box::pin(
                    devices::hid_pos_and_swipe_readers_are_read_through_hidapi_and_survive_a_replug(
                    ),
                )
            }),
        ],
        "full-disk" => {
            vec![("a_full_disk_is_a_clear_error_loses_nothing_and_recovers_by_itself", || {
                Box::pin(
                    full_disk::a_full_disk_is_a_clear_error_loses_nothing_and_recovers_by_itself(),
                )
            })]
        }
        "power" => vec![("power_cut_boot", || Box::pin(power::power_cut_boot()))],
        _ => Vec::new(),
    }
}

fn main() -> ExitCode {
    let group = std::env::args().nth(1).unwrap_or_default();
    let list = checks(&group);
    if list.is_empty() {
        eprintln!("usage: scanline-guest-checks devices|full-disk|power");
        return ExitCode::from(2);
    }
    let mut failed = 0;
    for (name, check) in list {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let passed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(check())));
        drop(rt);
        if passed.is_ok() {
            println!("check {name}: ok");
        } else {
            println!("check {name}: FAILED");
            failed += 1;
        }
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
