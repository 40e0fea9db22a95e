//! `attnlab markov sweep` and `attnlab run-task`: a grid runs through the task machinery (each run
//! cached on its own), writes one CSV row per run with the keys of `markov train --json`, reuses
//! every run the second time with the same file, writes a Slurm submission instead of running, and
//! refuses bad grids and task indices naming the field.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn attnlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attnlab")).args(args).output().expect("the attnlab binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("attnlab-sweep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

const GRID: [&str; 14] = [
    "markov",
    "sweep",
    "--model",
    "theory",
    "--p",
    "0.2:0.8:2",
    "--q",
    "0.3,0.9",
    "--seeds",
    "2",
    "--seq-len",
    "16",
    "--iters",
    "20",
];

fn sweep(out: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<&str> = GRID.to_vec();
    let out_s = out.to_str().unwrap();
    args.extend(["--out", out_s, "--json"]);
    args.extend(extra);
    let o = attnlab(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn a_sweep_writes_one_row_per_run_and_reuses_them() {
    let out = tmp("grid");
    let first = sweep(&out, &[]);
    assert_eq!(first["runs"], 8);
    assert_eq!(first["computed_now"], 8);
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for key in [
        "p",
        "q",
        "seed",
        "tying",
        "final_loss",
        "entropy_rate",
        "unigram_loss",
        "ending",
        "plateau_iters",
        "p1_given_0",
        "attnlab_version",
        "git_commit",
        "cargo_lock_sha256",
    ] {
        assert!(header.contains(&key), "sweep.csv lacks column {key}: {header:?}");
    }
    assert!(!header.contains(&"wall_s"), "wall time would make two runs of one sweep differ");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 8);
    let col = |k: &str| header.iter().position(|h| *h == k).unwrap();
    // (p, q, seed) in plan order: p outer, then q, then seed.
    let pqs: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[col("p")], r[col("q")], r[col("seed")])).collect();
    assert_eq!(pqs[0], ("0.2", "0.3", "0"));
    assert_eq!(pqs[1], ("0.2", "0.3", "1"));
    assert_eq!(pqs[2], ("0.2", "0.9", "0"));
    assert_eq!(pqs[7], ("0.8", "0.9", "1"));
    for r in &rows {
        let l: f64 = r[col("final_loss")].parse().unwrap();
        assert!(l.is_finite() && l > 0.0);
    }
    assert!(out.join("sweep.png").is_file() && out.join("sweep.svg").is_file());
    // The same sweep again: every run comes from the cache, and the table is the same file.
    let again = sweep(&out, &[]);
    assert_eq!(again["computed_now"], 0);
    assert_eq!(again["reused"], 8);
    assert_eq!(std::fs::read_to_string(out.join("sweep.csv")).unwrap(), csv);
    // --plan lists the runs without running: all cached now.
    let plan = sweep(&out, &["--plan"]);
    assert_eq!((plan["runs"].as_u64(), plan["cached"].as_u64()), (Some(8), Some(8)));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn slurm_mode_writes_tasks_and_a_script_and_run_task_runs_one() {
    let out = tmp("slurm");
    let job = out.join("job");
    let s = sweep(&out, &["--slurm", job.to_str().unwrap(), "--partition", "debug", "--time", "00:10:00"]);
    assert_eq!(s["runs"], 8);
    let tasks = std::fs::read_to_string(job.join("tasks.jsonl")).unwrap();
    assert_eq!(tasks.lines().count(), 8);
    let script = std::fs::read_to_string(job.join("submit.sh")).unwrap();
    for part in [
        "sbatch --parsable",
        "--array=0-7",
        "--partition=debug",
        "--time=00:10:00",
        "--dependency=afterok:$array",
        "run-task",
        "--from-cache",
    ] {
        assert!(script.contains(part), "submit.sh lacks {part}:\n{script}");
    }
    assert!(!out.join("sweep.csv").exists(), "--slurm must not run the sweep here");
    // One array task's work, by hand: task 3 into the shared cache; a second time it is a cache hit.
    let cache = out.join(".cache");
    let run = |i: &str| {
        attnlab(&[
            "run-task",
            job.join("tasks.jsonl").to_str().unwrap(),
            "--index",
            i,
            "--cache",
            cache.to_str().unwrap(),
            "--json",
        ])
    };
    let o = run("3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["status"].as_str().unwrap().starts_with("rebuilt"), "{v}");
    let v: serde_json::Value = serde_json::from_slice(&run("3").stdout).unwrap();
    assert!(v["status"].as_str().unwrap().starts_with("reused"), "{v}");
    // An index past the end names the field and the number of tasks.
    let o = run("8");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("`index` = 8") && err.contains("8 task(s)"), "{err}");
    // --from-cache with 7 runs missing fails naming them.
    let o = attnlab(&[&GRID[..], &["--out", out.to_str().unwrap(), "--from-cache"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("7 run(s) have no stored result"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn bad_grids_name_the_field() {
    let out = tmp("bad");
    let out_s = out.to_str().unwrap();
    for (p, q, field) in [
        ("1.3", "0.5", "`p`"),
        ("0.1:0.9:0", "0.5", "`p`"),
        ("0.5", "abc", "`q`"),
        ("0.9:0.1:3", "0.5", "`p`"),
        ("0.5", "0.3,0.2", "`q`"),
        ("NaN", "0.5", "`p`"),
    ] {
        let o = attnlab(&["markov", "sweep", "--p", p, "--q", q, "--out", out_s]);
        assert_eq!(o.status.code(), Some(2), "--p {p} --q {q}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(field) || err.contains(&field.replace('`', "")), "--p {p} --q {q}: {err}");
    }
    let o = attnlab(&["markov", "sweep", "--p", "0.1:0.9:1000", "--q", "0.1:0.9:1000", "--seeds", "5", "--out", out_s]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("more than 100000"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = attnlab(&["markov", "sweep", "--p", "0.5", "--q", "0.5", "--seeds", "0", "--out", out_s]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("`seeds`"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_sweep_killed_mid_run_resumes_from_whole_results_only() {
    // Runs long enough (≈ 0.2 s each, one at a time) for the kills to land mid-run.
    let grid = [
        "markov",
        "sweep",
        "--model",
        "theory",
        "--p",
        "0.2:0.8:2",
        "--q",
        "0.3,0.9",
        "--seeds",
        "2",
        "--seq-len",
        "64",
        "--iters",
        "200",
        "--jobs",
        "1",
    ];
    let run = |out: &Path| {
        let o = attnlab(&[&grid[..], &["--out", out.to_str().unwrap(), "--json"]].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let whole = tmp("kill-ref");
    run(&whole);
    let reference = std::fs::read_to_string(whole.join("sweep.csv")).unwrap();
    // The same sweep, SIGKILLed three times while it computes, then finished.
    let out = tmp("kill");
    let cache = out.join(".cache");
    let stored = || {
        std::fs::read_dir(&cache)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .count()
    };
    for wait_ms in [300, 300, 300] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_attnlab"))
            .args([&grid[..], &["--out", out.to_str().unwrap()]].concat())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        child.kill().unwrap(); // SIGKILL: no cleanup runs
        let _ = child.wait();
        // Whatever the cache holds under a result's name is a whole result.
        for e in std::fs::read_dir(&cache).into_iter().flatten().flatten() {
            let name = e.file_name().into_string().unwrap();
            if name.ends_with(".json") {
                let v: serde_json::Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap())
                    .unwrap_or_else(|err| panic!("half-written {name}: {err}"));
                assert!(v.get("result").is_some(), "{name}");
            }
        }
    }
    let before = stored();
    assert!(before < 8, "the kills came too late to interrupt anything ({before} of 8 runs stored)");
    let done = run(&out);
    assert_eq!(done["reused"], before, "every whole result is reused");
    assert_eq!(
        std::fs::read_to_string(out.join("sweep.csv")).unwrap(),
        reference,
        "the resumed sweep differs from the uninterrupted one"
    );
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::remove_dir_all(&whole).unwrap();
}
