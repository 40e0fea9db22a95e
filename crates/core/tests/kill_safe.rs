//! Kill-safe writes: a process killed with SIGKILL in the middle of writing results leaves every
//! result file either absent or whole — never half-written — and a rerun replaces or reuses them.
//!
//! The writer is this test binary itself, re-run with `ATTNLAB_KILL_DIR` set: it rewrites a few
//! ~1 MB JSON files (each holding its own checksum) through `write_atomic` as fast as it can until
//! it is killed.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use attnlab_core::io::write_json_atomic;

const FILES: usize = 4;

/// A payload whose last field checks the rest.
fn payload(round: u64, file: usize) -> serde_json::Value {
    let data: Vec<u64> = (0..100_000u64).map(|i| i.wrapping_mul(round + 1).wrapping_add(file as u64)).collect();
    let sum = data.iter().fold(0u64, |a, x| a.wrapping_add(*x));
    serde_json::json!({ "round": round, "data": data, "sum": sum })
}

fn whole(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else { return false };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return false };
    let data: Vec<u64> =
        v["data"].as_array().map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect()).unwrap_or_default();
    data.len() == 100_000 && v["sum"].as_u64() == Some(data.iter().fold(0u64, |a, x| a.wrapping_add(*x)))
}

/// The writer (does nothing unless re-run by `sigkill_leaves_no_half_written_result`).
#[test]
fn writer() {
    let Ok(dir) = std::env::var("ATTNLAB_KILL_DIR") else { return };
    for round in 0.. {
        for f in 0..FILES {
            write_json_atomic(&Path::new(&dir).join(format!("r{f}.json")), &payload(round, f)).unwrap();
        }
    }
}

#[test]
fn sigkill_leaves_no_half_written_result() {
    let dir = std::env::temp_dir().join(format!("attnlab-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for attempt in 0..5u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "writer", "--nocapture", "--test-threads", "1"])
            .env("ATTNLAB_KILL_DIR", &dir)
            .spawn()
            .unwrap();
        // Kill it at a different moment each time, mid-way through some write.
        std::thread::sleep(Duration::from_millis(150 + 97 * attempt));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        for f in 0..FILES {
            let p = dir.join(format!("r{f}.json"));
            assert!(!p.exists() || whole(&p), "attempt {attempt}: {} is half-written", p.display());
        }
        // Temporary files name their host and process, so a rerun (or another host) never
        // collides with them; they are never read as results.
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(name.ends_with(".json") || (name.starts_with('.') && name.ends_with(".tmp")), "stray file {name}");
        }
    }
    // A rerun after the kills rewrites every result whole.
    for f in 0..FILES {
        let p = dir.join(format!("r{f}.json"));
        write_json_atomic(&p, &payload(999, f)).unwrap();
        assert!(whole(&p));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
