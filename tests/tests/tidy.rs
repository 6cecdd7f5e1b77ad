//! The house rules of ARCHITECTURE.md, checked on the source tree by `cargo test`, so breaking
//! one fails the build instead of waiting for a reviewer: SQL only in the store modules; a
//! core that does no IO; a store that imports nothing above it; every "§n" naming a section of
//! `docs/design.md`; every `.rs` file opening with its `//!` paragraph; no source file over
//! 800 lines; no `unwrap()` outside tests. It reads files only; it builds nothing.

use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").into()
}

/// Every `.rs` file of the workspace, relative to the root, with its text.
fn sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![root()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | ".git" | "node_modules" | "demo-data") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Whether a file is test or benchmark code as a whole.
fn is_test_file(rel: &str) -> bool {
    rel.starts_with("tests/")
        || rel.contains("/tests/")
        || rel.contains("/benches/")
        || rel.ends_with("/testing.rs")
        || rel.ends_with("/tests.rs")
}

/// The file's text before its `#[cfg(test)]` module: the code that ships.
fn shipped(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// Lines of `text` (1-based) that hold a string literal starting with an SQL statement.
fn sql_lines(text: &str) -> Vec<usize> {
    const VERBS: [&str; 12] = [
        "SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ", "ALTER ", "PRAGMA ",
        "BEGIN", "COMMIT", "ROLLBACK", "WITH ",
    ];
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            line.split('"').skip(1).step_by(2).any(|lit| VERBS.iter().any(|v| lit.starts_with(v)))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

fn in_store(rel: &str) -> bool {
    rel.starts_with("server/src/store/") || rel.starts_with("station/src/store/")
}

#[test]
fn sql_lives_only_in_the_store_modules() {
    // The database seams hold the connection settings and the health round trip, nothing
    // about tables.
    let seams = ["server/src/db.rs"];
    let mut found = Vec::new();
    for (rel, text) in sources() {
        if is_test_file(&rel) || in_store(&rel) || seams.contains(&rel.as_str()) {
            continue;
        }
        for line in sql_lines(shipped(&text)) {
            found.push(format!("{rel}:{line}"));
        }
    }
    assert!(found.is_empty(), "SQL outside the store modules:\n{}", found.join("\n"));
}

#[test]
fn the_store_imports_nothing_above_it() {
    // What a store module may name inside its own crate: the store itself, the database seam,
    // the leaf models that hold plain rows and `stamp`, which writes times as text and names
    // nothing of the crate itself.
    let allowed =
        ["crate::store", "crate::db", "crate::hmis::model", "crate::card::model", "crate::stamp"];
    let mut found = Vec::new();
    for (rel, text) in sources() {
        if rel == "server/src/stamp.rs" && shipped(&text).contains("crate::") {
            found.push(format!("{rel}: stamp names the crate, so it is no longer a leaf"));
        }
        if !in_store(&rel) {
            continue;
        }
        for (i, line) in shipped(&text).lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                let path: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                if !allowed.iter().any(|a| path.starts_with(a)) {
                    found.push(format!("{rel}:{}: {path}", i + 1));
                }
                rest = &rest[at + "crate::".len()..];
            }
        }
    }
    assert!(found.is_empty(), "the store reaches above itself:\n{}", found.join("\n"));
}

#[test]
fn the_core_crate_does_no_io() {
    let manifest = std::fs::read_to_string(root().join("core/Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .expect("core has dependencies");
    let allowed = ["chrono", "serde", "thiserror", "uuid", "utoipa", "sha2"];
    for line in deps.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let name = line.split(['.', ' ', '=']).next().unwrap();
        assert!(allowed.contains(&name), "scanline-core depends on {name}");
    }
    for (rel, text) in sources() {
        if !rel.starts_with("core/src/") {
            continue;
        }
        for io in ["std::fs", "std::net", "std::process", "std::thread", "std::io::Read", "tokio"] {
            assert!(!shipped(&text).contains(io), "{rel} uses {io}");
        }
    }
}

/// The section numbers `docs/design.md` has: `## 13.` gives "13", `### 8.3` gives "8.3".
fn design_sections() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("docs/design.md")).expect("docs/design.md");
    text.lines()
        .filter(|l| l.starts_with("## ") || l.starts_with("### "))
        .filter_map(|l| {
            let n: String = l
                .trim_start_matches('#')
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let n = n.trim_end_matches('.').to_owned();
            (!n.is_empty()).then_some(n)
        })
        .collect()
}

#[test]
fn every_section_reference_names_a_section_of_the_design() {
    let sections = design_sections();
    let mut files: Vec<(String, String)> = sources();
    for extra in ["README.md", "ARCHITECTURE.md", "docs/design.md"] {
        files.push((extra.to_owned(), std::fs::read_to_string(root().join(extra)).unwrap()));
    }
    for dir in ["server/templates", "migrations/server", "migrations/station", "firmware-configs"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let rel = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
                files.push((rel, std::fs::read_to_string(&path).unwrap_or_default()));
            }
        }
    }
    let mut bad = Vec::new();
    for (rel, text) in files {
        // "DESIGN §n" is how the code cites the design; other § signs (an RFC's section, a
        // key on a keyboard layout) are not about it.
        for (i, _) in text.match_indices("DESIGN §") {
            let i = i + "DESIGN ".len();
            let n: String = text[i + '§'.len_utf8()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let n = n.trim_end_matches('.');
            // "DESIGN §n", the convention itself written out, names no section.
            if !n.is_empty() && !sections.iter().any(|s| s == n) {
                bad.push(format!("{rel}: §{n}"));
            }
        }
    }
    assert!(bad.is_empty(), "references to no section of docs/design.md:\n{}", bad.join("\n"));
}

#[test]
fn every_rust_file_opens_with_what_it_is_for() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(rel, _)| rel)
        .collect();
    assert!(missing.is_empty(), "files without a //! paragraph:\n{}", missing.join("\n"));
}

#[test]
fn no_source_file_is_longer_than_800_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| text.lines().count() > 800)
        .map(|(rel, text)| format!("{rel}: {} lines", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "files too long to hold in one's head:\n{}", long.join("\n"));
}

#[test]
fn shipped_code_does_not_unwrap() {
    let mut found = Vec::new();
    for (rel, text) in sources() {
        if is_test_file(&rel) || !(rel.contains("/src/") || rel.starts_with("src/")) {
            continue;
        }
        for (i, line) in shipped(&text).lines().enumerate() {
            if line.contains(".unwrap()") && !line.trim_start().starts_with("//") {
                found.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "unwrap() in shipped code:\n{}", found.join("\n"));
}

#[test]
fn the_sql_check_sees_sql() {
    // The checks above are only as good as their eyes.
    assert_eq!(sql_lines("let q = \"SELECT id FROM clients\";\nlet s = \"selected\";"), [1]);
    assert!(sql_lines("tracing::info!(\"updated {n}\")").is_empty());
    assert_eq!(shipped("a\n#[cfg(test)]\nmod tests {}"), "a\n");
}
