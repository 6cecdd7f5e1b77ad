//! The phone station's rules as the phone runs them (DESIGN §17): the WebAssembly the server
//! serves, run by Node.js, judges a meal line's cards over a real server's roster exactly as a
//! real station judges the same cards, and refuses bad requests without losing its roster.

use std::time::Duration;

use scanline_tests::{Line, StationClient, misread};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_rules_judge_a_meal_line_as_a_station_does() {
    let line = Line::start(120, false, 1).await;
    let base = format!("http://127.0.0.1:{}", line.port);
    let dir = line.agency.dir.path();

    // What the phone downloads: its rules, and the roster through the station API.
    let wasm = reqwest::get(format!("{base}/static/phone.wasm")).await.unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    let wasm = wasm.bytes().await.unwrap();
    std::fs::write(dir.join("phone.wasm"), &wasm).unwrap();
    let token = std::fs::read_to_string(&line.agency.token).unwrap();
    let api = StationClient::new(&base, &token);
    let (status, roster) = api.get("/api/v1/roster").await.unwrap();
    assert_eq!(status, 200);
    std::fs::write(dir.join("roster.json"), roster.to_string()).unwrap();

    // A meal line: good cards, second visits, barred, unenrolled, replaced, unknown, misread.
    let c = line.cards();
    let mut codes: Vec<String> = c.good[..6].to_vec();
    codes.extend([c.good[0].clone(), c.good[3].clone(), c.barred[0].clone()]);
    codes.extend([c.unenrolled[0].clone(), c.replaced[0].clone(), "ZZ-NOT-A-CARD".into()]);
    codes.extend([misread(&c.good[1]), c.good[6].clone(), c.good[6].clone()]);
    let mut station = Vec::new();
    for code in &codes {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let (status, v) = line.kiosk.post("/api/scan", &json!({ "code": code })).await;
        assert_eq!(status, 200, "{v}");
        station.push(v["verdict"].as_str().unwrap().to_owned());
    }

    let batch = json!({ "program_id": 1, "service_type_ids": [1], "codes": codes });
    std::fs::write(dir.join("batch.json"), batch.to_string()).unwrap();
    let out = std::process::Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/phone-judge.mjs"))
        .args([dir.join("phone.wasm"), dir.join("roster.json"), dir.join("batch.json")])
        .output()
        .expect("node (Debian package nodejs, with npm) is needed: tests/run installs it");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out["loaded"]["clients"], roster["clients"].as_array().unwrap().len());
    let phone: Vec<&str> = out["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(phone, station, "the phone and the station judge alike");
    for want in [
        "accepted",
        "duplicate",
        "barred",
        "no_open_enrollment",
        "replaced_card",
        "unknown_card",
        "misread",
    ] {
        assert!(phone.contains(&want), "the line meets {want}: {phone:?}");
    }
    let first = &out["verdicts"][0];
    assert_eq!(first["label"], "OK");
    assert!(first["display_name"].as_str().unwrap().ends_with('.'), "first name and initial");
    // Refused, each with its reason: a scan before any roster, a roster that is not JSON (the
    // roster loaded after it is whole), a program not on the roster, a request of no kind.
    let refused: Vec<&str> = out["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["error"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(refused.len(), 4);
    assert!(refused[0].contains("no roster"), "{refused:?}");
    assert!(refused[1].contains("not valid JSON"), "{refused:?}");
    assert!(refused[2].contains("program"), "{refused:?}");
    assert!(refused[3].contains("no request of kind 9"), "{refused:?}");
}
