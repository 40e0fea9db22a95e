//! A fuzz table over the whole command line: every subcommand's every value flag, each given a set
//! of bad and extreme values (non-numbers, empty, negative, zero, 1e300, NaN, 10^12, past u64).
//! Each call must answer within a time limit with exit 0 and a readable result, exit 2 naming the
//! field, or exit 3 saying the run lies outside a theorem's assumptions — never a panic, a hang, a
//! bare usage line, or a partial file left behind.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The values every flag is given.
const VALUES: [&str; 8] = ["abc", "", "-1", "0", "1e300", "NaN", "1000000000000", "99999999999999999999"];

/// Longest a single call may take: every call here either refuses at once or computes a tiny case.
const LIMIT: Duration = Duration::from_secs(30);

/// Result keys that must never be null (a NaN or ∞ in JSON) in a successful answer.
const FINITE_KEYS: [&str; 8] = [
    "final_loss",
    "entropy_rate",
    "unigram_loss",
    "effective_eta",
    "trained_loss_paired",
    "eta_star",
    "loss_star",
    "slope",
];

struct Case {
    args: Vec<String>,
    /// A folder the call may write into: after the call it must hold no partial (`.tmp`) file.
    writes: Option<PathBuf>,
}

/// Runs `attnlab args`, killing it past [`LIMIT`]: (exit status, stdout, stderr, elapsed).
fn run(args: &[String]) -> (Option<i32>, String, String, Duration) {
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_attnlab"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the pipes on threads so a large output cannot block the child.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if t0.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after {LIMIT:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status, out_t.join().unwrap(), err_t.join().unwrap(), t0.elapsed())
}

fn partial_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".tmp") {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

/// What every answer must satisfy.
fn check(case: &Case) {
    let (status, stdout, stderr, _) = run(&case.args);
    let args = &case.args;
    assert!(!stderr.contains("panicked"), "{args:?}: a panic: {stderr}");
    match status {
        Some(0) => {
            let v: serde_json::Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("{args:?}: exit 0 without a JSON result ({e}): {stdout}"));
            for k in FINITE_KEYS {
                assert!(v.get(k).is_none_or(|x| !x.is_null()), "{args:?}: exit 0 with `{k}` null (not finite)");
            }
        }
        Some(2) => {
            let named = stderr.contains('`') || stderr.contains("--") || stderr.contains('<');
            assert!(stderr.contains("error") && named, "{args:?}: exit 2 without naming the field: {stderr}");
        }
        Some(3) => {
            assert!(stderr.contains("outside the theorem's assumptions"), "{args:?}: exit 3 unexplained: {stderr}")
        }
        other => panic!("{args:?}: exit {other:?}: {stderr}"),
    }
    if let Some(dir) = &case.writes {
        let left = partial_files(dir);
        assert!(left.is_empty(), "{args:?}: partial files left: {left:?}");
    }
}

/// `base` (flag, value) pairs with `flag` given `value` (added if absent), as arguments.
fn with(cmd: &[&str], base: &[(&str, &str)], flag: &str, value: &str) -> Vec<String> {
    let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    let mut seen = false;
    for (f, v) in base {
        args.push(f.to_string());
        if *f == flag {
            seen = true;
            args.push(value.to_string());
        } else if !v.is_empty() {
            args.push(v.to_string());
        }
    }
    if !seen {
        args.push(flag.to_string());
        args.push(value.to_string());
    }
    args
}

#[test]
fn every_flag_answers_bad_and_extreme_values() {
    let dir = std::env::temp_dir().join(format!("attnlab-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = |s: &str| dir.join(s).display().to_string();
    // A real weights file for `markov eval`.
    let weights = d("w.safetensors");
    let (status, _, err, _) = run(&[
        "markov",
        "train",
        "--p",
        "0.5",
        "--q",
        "0.8",
        "--d",
        "4",
        "--seq-len",
        "16",
        "--batch",
        "2",
        "--iters",
        "3",
        "--eval-every",
        "3",
        "--eval-batches",
        "1",
        "--save-weights",
        &weights,
        "--json",
    ]
    .map(String::from));
    assert_eq!(status, Some(0), "{err}");

    let train_base: &[(&str, &str)] = &[
        ("--p", "0.5"),
        ("--q", "0.8"),
        ("--d", "4"),
        ("--seq-len", "16"),
        ("--batch", "2"),
        ("--iters", "3"),
        ("--eval-every", "3"),
        ("--eval-batches", "1"),
        ("--json", ""),
    ];
    let sweep_out = d("sweep");
    let sweep_cache = d("sweep-cache");
    let sweep_base: Vec<(&str, &str)> = vec![
        ("--p", "0.5"),
        ("--q", "0.8"),
        ("--seeds", "1"),
        ("--d", "4"),
        ("--seq-len", "16"),
        ("--batch", "2"),
        ("--iters", "3"),
        ("--eval-every", "3"),
        ("--jobs", "1"),
        ("--out", &sweep_out),
        ("--cache", &sweep_cache),
        ("--json", ""),
    ];
    let icar_aug: &[(&str, &str)] = &[
        ("--d", "2"),
        ("--t", "4"),
        ("--steps", "20"),
        ("--batch", "8"),
        ("--eval-samples", "50"),
        ("--heads", "2"),
        ("--json", ""),
    ];
    let icar_diag: &[(&str, &str)] = &[
        ("--case", "unitary"),
        ("--d", "2"),
        ("--heads", "1"),
        ("--t", "4"),
        ("--iters", "50"),
        ("--restarts", "1"),
        ("--json", ""),
    ];
    type Template<'a> = (&'a [&'a str], Vec<(&'a str, &'a str)>, &'a [&'a str]);
    let templates: Vec<Template> = vec![
        (&["markov", "theory"], vec![("--p", "0.3"), ("--q", "0.5"), ("--json", "")], &["--p", "--q", "--order"]),
        (&["markov", "theory"], vec![("--p", "0.3"), ("--json", "")], &["--states"]),
        (
            &["markov", "canonical"],
            vec![("--p", "0.5"), ("--q", "0.8"), ("--e", "0.1"), ("--w", "0.2"), ("--json", "")],
            &["--p", "--q", "--e", "--w", "--b", "--t-max"],
        ),
        (
            &["markov", "sgd"],
            vec![("--p", "0.5"), ("--q", "0.8"), ("--seeds", "2"), ("--steps", "50"), ("--json", "")],
            &["--p", "--q", "--seeds", "--steps", "--lr", "--momentum", "--init-std", "--b-init", "--seed"],
        ),
        (
            &["markov", "train"],
            train_base.to_vec(),
            &[
                "--p",
                "--q",
                "--order",
                "--memory",
                "--layers",
                "--d",
                "--seq-len",
                "--batch",
                "--iters",
                "--lr",
                "--eval-every",
                "--eval-batches",
                "--seed",
                "--model",
            ],
        ),
        (
            &["markov", "train"],
            vec![
                ("--p", "0.6"),
                ("--d", "4"),
                ("--seq-len", "16"),
                ("--batch", "2"),
                ("--iters", "3"),
                ("--eval-every", "3"),
                ("--eval-batches", "1"),
                ("--json", ""),
            ],
            &["--states"],
        ),
        (&["markov", "eval"], vec![("--weights", &weights), ("--json", "")], &["--weights", "--seed"]),
        (&["markov", "eval"], vec![("--weights", &weights), ("--q", "0.5"), ("--json", "")], &["--p"]),
        (
            &["markov", "sweep"],
            sweep_base.clone(),
            &[
                "--p",
                "--q",
                "--seeds",
                "--seed",
                "--layers",
                "--d",
                "--seq-len",
                "--batch",
                "--iters",
                "--lr",
                "--eval-every",
                "--jobs",
                "--tying",
                "--model",
            ],
        ),
        (
            &["icar", "augmented"],
            icar_aug.to_vec(),
            &["--d", "--t", "--seed", "--heads", "--steps", "--batch", "--eval-samples"],
        ),
        (
            &["icar", "diagonal"],
            icar_diag.to_vec(),
            &["--case", "--d", "--heads", "--t", "--iters", "--restarts", "--seed"],
        ),
        (
            &["paths", "markov"],
            vec![("--widths", "10"), ("--json", "")],
            &["--widths", "--tau", "--sigma-perp", "--seed", "--config"],
        ),
        (&["exchangeable", "e1"], vec![("--replicates", "2"), ("--json", "")], &["--w", "--replicates", "--seed"]),
        (&["exchangeable", "e2"], vec![("--replicates", "2"), ("--json", "")], &["--w", "--replicates", "--seed"]),
        (
            &["exchangeable", "e3"],
            vec![("--replicates", "2"), ("--schedule-replicates", "2"), ("--cme-replicates", "2"), ("--json", "")],
            &["--replicates", "--schedule-replicates", "--cme-replicates", "--seed"],
        ),
        (
            &["exchangeable", "e4"],
            vec![("--train-sets", "2"), ("--test-size", "100"), ("--json", "")],
            &["--train-sets", "--test-size", "--w-star", "--seed"],
        ),
        (
            &["exchangeable", "e5"],
            vec![("--n", "200"), ("--len", "8"), ("--json", "")],
            &["--n", "--len", "--w", "--kappas", "--seed"],
        ),
        (&["check"], vec![("--results", "/nonexistent/results"), ("--json", "")], &["--results", "--baseline"]),
        (
            &["run-task", "/nonexistent/tasks.jsonl"],
            vec![("--index", "0"), ("--cache", &sweep_cache), ("--json", "")],
            &["--index", "--cache"],
        ),
    ];
    let mut cases = Vec::new();
    for (cmd, base, flags) in &templates {
        for flag in *flags {
            for v in VALUES {
                let writes = (cmd.get(1) == Some(&"sweep")).then(|| dir.clone());
                cases.push(Case { args: with(cmd, base, flag, v), writes });
            }
        }
    }
    // Positional and path arguments: a missing file, a folder, an unwritable place.
    for v in ["abc", "", "/", "/nonexistent/case.json"] {
        cases.push(Case { args: vec!["paths".into(), "theory".into(), v.into(), "--json".into()], writes: None });
        cases.push(Case {
            args: vec![
                "run-task".into(),
                v.into(),
                "--index".into(),
                "0".into(),
                "--cache".into(),
                sweep_cache.clone(),
            ],
            writes: None,
        });
    }
    for target in ["/nonexistent/dir/w.safetensors", "/", dir.to_str().unwrap()] {
        let args = with(&["markov", "train"], train_base, "--save-weights", target);
        cases.push(Case { args, writes: Some(dir.clone()) });
        cases.push(Case { args: with(&["markov", "sweep"], &sweep_base, "--out", target), writes: Some(dir.clone()) });
    }
    assert!(cases.len() >= 60, "{} cases", cases.len());
    // Two at a time (the CI machine's cores); sweeps share a folder, so they run in order on one.
    let (sweeps, others): (Vec<Case>, Vec<Case>) = cases.into_iter().partition(|c| c.writes.is_some());
    let half = others.len() / 2;
    let (a, b) = others.split_at(half);
    std::thread::scope(|s| {
        s.spawn(|| a.iter().for_each(check));
        s.spawn(|| b.iter().chain(&sweeps).for_each(check));
    });
    let _ = std::fs::remove_dir_all(&dir);
}
