//! End-to-end test of `attnlab icar …`: required JSON keys for valid input, exit status 2 with the
//! field named for bad input.

use std::process::Command;

fn attnlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_attnlab")).args(args).output().expect("run attnlab")
}

#[test]
fn augmented_json_has_the_required_keys() {
    let out = attnlab(&[
        "icar",
        "augmented",
        "--d",
        "2",
        "--t",
        "6",
        "--steps",
        "300",
        "--batch",
        "64",
        "--eval-samples",
        "2000",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for k in ["eta_star", "loss_star", "trained_loss", "trained_loss_se", "effective_eta", "verdict"] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert!((v["eta_star"].as_f64().unwrap_or(0.0) - 2.0 / 6.0).abs() < 1e-12);
}

#[test]
fn diagonal_json_has_the_required_keys() {
    let out = attnlab(&[
        "icar",
        "diagonal",
        "--case",
        "unitary",
        "--d",
        "4",
        "--heads",
        "2",
        "--t",
        "6",
        "--iters",
        "2000",
        "--restarts",
        "2",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for k in ["loss_floor_theory", "trained_loss_per_row", "c_times_p", "pe_ratio", "verdict"] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["loss_floor_theory"].as_f64(), Some(2.0));
}

#[test]
fn bad_input_exits_2_naming_the_field() {
    for (args, field) in [
        (vec!["icar", "augmented", "--d", "0", "--t", "5"], "`d`"),
        (vec!["icar", "augmented", "--d", "3", "--t", "1"], "`t`"),
        (vec!["icar", "diagonal", "--case", "orthogonal", "--d", "5", "--heads", "2"], "`d`"),
        (vec!["icar", "diagonal", "--case", "unitary", "--d", "4", "--heads", "0"], "`heads`"),
    ] {
        let out = attnlab(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{args:?}: {err}");
    }
}
