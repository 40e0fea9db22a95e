//! `attnlab check`: exit 0 when every claim's verdict is the baseline's, 1 when one changed (named
//! on stderr), 2 when the results folder or the baseline is missing or unreadable.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::{Command, Output};

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};

fn check(results: &Path, baseline: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attnlab"))
        .args(["check", "--results"])
        .arg(results)
        .arg("--baseline")
        .arg(baseline)
        .output()
        .expect("the attnlab binary runs")
}

/// A results folder with one figure file holding two judged claims: one agrees (0.5 inside 0.5 ±
/// 0.1), one disagrees (0.9 outside it).
fn results_folder(dir: &Path) {
    let rule = Rule::abs(0.1, "test");
    let j = |id: &str, kind: Kind, v: f64| {
        Judgement::new(Claim::new(id, "t", kind, "s", "§"), Some(0.5), Observation::exact(v), rule, "fig", "")
    };
    let file = serde_json::json!({
        "id": "fig",
        "judgements": [j("t.a", Kind::Theorem, 0.5), j("t.b", Kind::Control, 0.9)],
    });
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("fig.json"), serde_json::to_vec(&file).unwrap()).unwrap();
    // A JSON file without judgements (e.g. timings) is skipped.
    std::fs::write(dir.join("other.json"), b"{\"total\": 1}").unwrap();
}

#[test]
fn exit_status_follows_the_baseline() {
    let tmp = std::env::temp_dir().join(format!("attnlab-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let results = tmp.join("results");
    results_folder(&results);
    let same = tmp.join("same.json");
    std::fs::write(
        &same,
        r#"[{"id":"t.a","kind":"theorem","verdict":"agrees"},{"id":"t.b","kind":"control","verdict":"disagrees"}]"#,
    )
    .unwrap();
    let out = check(&results, &same);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("t.a") && table.contains("t.b") && table.contains("disagrees"), "{table}");

    // t.b's verdict changed: exit 1, naming it (and only it).
    let changed = tmp.join("changed.json");
    std::fs::write(
        &changed,
        r#"[{"id":"t.a","kind":"theorem","verdict":"agrees"},{"id":"t.b","kind":"control","verdict":"agrees"}]"#,
    )
    .unwrap();
    let out = check(&results, &changed);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("t.b: was control agrees, now control disagrees"), "{err}");
    assert!(!err.contains("t.a:"), "{err}");

    // A claim that vanished from the results is a change too.
    let extra = tmp.join("extra.json");
    std::fs::write(&extra, r#"[{"id":"t.a","kind":"theorem","verdict":"agrees"},{"id":"t.b","kind":"control","verdict":"disagrees"},{"id":"t.c","kind":"theorem","verdict":"agrees"}]"#).unwrap();
    let out = check(&results, &extra);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("t.c: in the baseline"));

    // Missing folder, missing baseline, unreadable baseline: exit 2.
    assert_eq!(check(&tmp.join("nope"), &same).status.code(), Some(2));
    assert_eq!(check(&results, &tmp.join("nope.json")).status.code(), Some(2));
    let bad = tmp.join("bad.json");
    std::fs::write(&bad, b"not json").unwrap();
    let out = check(&results, &bad);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `check` honours the global `--format`: `csv` is a header and one row per claim, `jsonl` one
/// flat object per claim, `json` the same as `--json` (issue 27 item 5).
#[test]
fn check_honours_format() {
    let tmp = std::env::temp_dir().join(format!("attnlab-check-format-{}", std::process::id()));
    let results = tmp.join("results");
    results_folder(&results);
    let baseline = tmp.join("verdicts.json");
    let base = serde_json::json!([
        {"id": "t.a", "kind": "theorem", "verdict": "agrees"},
        {"id": "t.b", "kind": "control", "verdict": "disagrees"},
    ]);
    std::fs::write(&baseline, serde_json::to_vec(&base).unwrap()).unwrap();
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_attnlab"))
            .args(["--format", format, "check", "--results"])
            .arg(&results)
            .arg("--baseline")
            .arg(&baseline)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = run("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,kind,verdict,"), "{csv}");
    assert!(lines[1].starts_with("t.a,theorem,agrees,") && lines[2].starts_with("t.b,control,disagrees,"), "{csv}");
    let jsonl = run("jsonl");
    let rows: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["observed.value"], 0.5);
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["claims"].as_array().map(Vec::len), Some(2));
    let _ = std::fs::remove_dir_all(&tmp);
}
