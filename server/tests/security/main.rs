//! The security regression suite (DESIGN §13): every door into the data keeps the rules the
//! station API keeps. Each case reproduces an attack or a mistake that once got through (an
//! impossible scan time that stopped every write, an HMIS upload that took over another
//! organization, a second meal from the desk, a photo that took the server's memory, a
//! sign-in flood, leaked printer passwords, missing security headers, a zip bomb, another
//! organization's audit trail, late uploads to a closed batch), and checks that a refusal
//! leaves the database exactly as it was. `scope` walks every staff page and download of one
//! organization as the other's staff and admins; `process` runs the real server binary for
//! what only a process shows (resident memory, a flood over real sockets).

#[path = "../harness/mod.rs"]
mod harness;

mod audit;
mod headers;
mod hmis;
mod photos;
mod printers;
mod process;
mod scope;
mod services;
mod signin;
mod times;

use harness::Harness;
use harness::web::{PASSWORD, add_user, sign_in};
use scanline_server::store::users::Role;

/// A new user of `org` with `role`, signed in; returns the session cookie.
pub(crate) async fn signed_in(h: &Harness, name: &str, org: i64, role: Role) -> String {
    add_user(h, name, org, role);
    sign_in(h, name, PASSWORD).await.unwrap_or_else(|p| panic!("{name} signs in: {p:?}"))
}

/// Runs `refused`, then checks nothing in the database changed (session times aside).
pub(crate) async fn changes_nothing<F: std::future::Future<Output = ()>>(h: &Harness, refused: F) {
    let before = h.dump();
    refused.await;
    same(&before, &h.dump());
}

/// Like `changes_nothing`, but the attempt itself may be written to the audit trail (a refused
/// HMIS import is recorded, so admins can see someone tried).
pub(crate) async fn changes_nothing_but_the_audit<F: std::future::Future<Output = ()>>(
    h: &Harness,
    refused: F,
) {
    let before = without_audit(&h.dump());
    refused.await;
    same(&before, &without_audit(&h.dump()));
}

fn without_audit(dump: &str) -> String {
    let mut keep = true;
    let mut out = String::new();
    for line in dump.lines() {
        if line.starts_with("## ") {
            keep = line != "## audit_events";
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn same(before: &str, after: &str) {
    if before != after {
        let diff: Vec<_> = after.lines().filter(|l| !before.contains(l)).take(10).collect();
        panic!("a refusal changed the database; new lines:\n{}", diff.join("\n"));
    }
}
