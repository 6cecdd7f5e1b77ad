//! Measuring for the upload benchmark: medians and percentiles of latencies, and where the
//! process's CPU time went by thread (Linux `/proc`), so a figure says what it waited on.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// Median time and wire size of `runs` gzip snapshots.
/// On-CPU time of this process's live threads, summed by thread name (Linux `/proc`; empty
/// elsewhere). Used to tell CPU from waiting on the disk.
pub(crate) fn thread_cpu() -> BTreeMap<String, Duration> {
    let mut out = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return out };
    for task in tasks.flatten() {
        let dir = task.path();
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(dir.join("comm")),
            std::fs::read_to_string(dir.join("schedstat")),
        ) else {
            continue;
        };
        let Some(ns) = stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()) else {
            continue;
        };
        let name = comm.trim().trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        *out.entry(name.to_owned()).or_insert(Duration::ZERO) += Duration::from_nanos(ns);
    }
    out
}

/// CPU used between two `thread_cpu` readings, largest first, as one line.
pub(crate) fn cpu_between(
    before: &BTreeMap<String, Duration>,
    after: &BTreeMap<String, Duration>,
) -> (Duration, String) {
    let mut used: Vec<(&str, Duration)> = after
        .iter()
        .map(|(k, v)| (k.as_str(), v.saturating_sub(before.get(k).copied().unwrap_or_default())))
        .filter(|(_, d)| *d >= Duration::from_millis(10))
        .collect();
    used.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
    let total = used.iter().map(|(_, d)| *d).sum();
    let mut line = String::new();
    for (name, d) in used {
        let _ = write!(line, " {name} {:.2} s;", d.as_secs_f64());
    }
    (total, line)
}

/// This thread's on-CPU time (Linux), to split a single-threaded phase into CPU and waiting.
pub(crate) fn own_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

pub(crate) fn cpu_note(cpu_before: Option<Duration>, wall: Duration) -> String {
    match (cpu_before, own_cpu()) {
        (Some(a), Some(b)) => {
            let cpu = b.saturating_sub(a);
            format!(
                " [cpu {:.2} s, waiting {:.2} s]",
                cpu.as_secs_f64(),
                wall.saturating_sub(cpu).as_secs_f64()
            )
        }
        _ => String::new(),
    }
}
