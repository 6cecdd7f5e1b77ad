//! Checks every page test shares: axe-core over the page shown, no sideways scroll, tap
//! targets of 44 px, and the viewport and screenshot helpers.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::json;

use crate::Browser;

/// axe-core's script, installed by `tests/run` into `target/axe`.
fn axe_source() -> &'static str {
    static AXE: OnceLock<String> = OnceLock::new();
    AXE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/axe/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!("{} is missing: tests/run installs axe-core from npm", path.display())
        })
    })
}

/// `target/screenshots/<sub>`, made if missing.
pub fn screenshots(sub: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots").join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Makes the viewport `w` px wide and `h` tall.
pub async fn resize(b: &Browser, w: u32, h: u32) {
    b.client.set_window_size(w, h).await.unwrap();
    let inner = b.client.execute("return window.innerWidth;", vec![]).await.unwrap();
    assert_eq!(inner, json!(w), "the viewport is {w} px wide");
}

/// What is wrong with the page now showing: axe-core's violations and any sideways scroll,
/// and with `targets`, controls under 44 px tall. Empty when nothing is.
pub async fn problems(b: &Browser, targets: bool) -> Vec<String> {
    let c = &b.client;
    c.execute(&format!("{}; return null;", axe_source()), vec![]).await.unwrap();
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations.map(v =>
               v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' ')).join(' | '))),
               e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    let mut out: Vec<String> =
        serde_json::from_value::<Vec<String>>(found).unwrap_or_else(|e| vec![e.to_string()]);
    let fit = c
        .execute(
            "const w = document.documentElement.clientWidth; const out = [];
             if (document.documentElement.scrollWidth > w) {
               // The outermost elements that stick out, named by their section's heading.
               const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1 && e.parentElement.getBoundingClientRect().right <= w + 1)
                 .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + ' in ' + (e.closest('section')?.querySelector('h2')?.textContent || 'the page'));
               out.push('wider than ' + w + ' px (' + document.documentElement.scrollWidth + '): ' + wide.slice(0, 5).join(', '));
             }
             return out;",
            vec![],
        )
        .await
        .unwrap();
    out.extend(serde_json::from_value::<Vec<String>>(fit).unwrap());
    if targets {
        let fit = c
            .execute(
                "const out = [];
                 for (const e of document.querySelectorAll('button, select, input, textarea, a.button, nav a, summary')) {
                   if (e.type === 'hidden' || e.closest('[hidden]')) continue;
                   let box = e;
                   if (e.type === 'checkbox' || e.type === 'radio') box = e.closest('label') || e;
                   const r = box.getBoundingClientRect();
                   if (r.width === 0 && r.height === 0) continue;
                   if (r.height < 43.5) out.push('small target (' + Math.round(r.height) + ' px): ' + box.outerHTML.slice(0, 90));
                 }
                 return out;",
                vec![],
            )
            .await
            .unwrap();
        out.extend(serde_json::from_value::<Vec<String>>(fit).unwrap());
    }
    out
}
