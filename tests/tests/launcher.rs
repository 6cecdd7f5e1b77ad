//! The README's first command, `scanline demo`, as a newcomer runs it: it creates the demo
//! agency, serves the staff pages and a kiosk, replays a meal line through the simulated
//! scanner into the server, and stops whole on SIGTERM as on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use scanline_tests::binary;

#[test]
fn the_demo_replays_a_meal_line_into_the_server_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo-data");
    let mut child = Command::new(binary("scanline"))
        .args(["demo", "--listen", "127.0.0.1:0", "--kiosk", "127.0.0.1:0", "--pace", "0.2"])
        .arg("--dir")
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !printed.iter().any(|l: &String| l.starts_with("Ctrl-C stops the demo")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => printed.push(line),
            Err(e) => panic!("the demo did not start ({e}); it printed {printed:#?}"),
        }
    }
    let text = printed.join("\n");
    assert!(text.contains("500 synthetic clients"), "{text}");
    assert!(text.contains("kiosk (guests): http://127.0.0.1:"), "{text}");
    assert!(data.join("admin.password").exists() && data.join("demo-cards.txt").exists());

    // The replayed meal line reaches the server: batch entries with verdicts of every kind.
    let db = data.join("scanline-demo.db");
    let deadline = Instant::now() + Duration::from_secs(90);
    let kinds = loop {
        let kinds: Vec<String> = Connection::open(&db)
            .and_then(|c| {
                c.prepare("SELECT DISTINCT verdict FROM batch_entries ORDER BY verdict")?
                    .query_map([], |r| r.get(0))?
                    .collect()
            })
            .unwrap_or_default();
        if kinds.len() >= 3 {
            break kinds;
        }
        assert!(Instant::now() < deadline, "the meal line did not reach the server: {kinds:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(kinds.iter().any(|k| k == "accepted"), "{kinds:?}");

    // SIGTERM stops the whole demo, station included, and the data stays.
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the demo was still running 20 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "{exit:?}");
    let kept: i64 = Connection::open(&db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM batch_entries", [], |r| r.get(0))
        .unwrap();
    assert!(kept > 0);
}
