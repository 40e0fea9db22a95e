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
    for k in [
        "eta_star",
        "loss_star",
        "heads",
        "effective_eta",
        "effective_eta_interval",
        "trained_loss_paired",
        "trained_loss_paired_interval",
        "verdict",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert!((v["eta_star"].as_f64().unwrap_or(0.0) - 2.0 / 6.0).abs() < 1e-12);
    // Three heads by default, seeds 0, 100000, 200000; the verdict judges their mean.
    let heads = v["heads"].as_array().expect("heads");
    let seeds: Vec<u64> = heads.iter().filter_map(|h| h["seed"].as_u64()).collect();
    assert_eq!(seeds, [0, 100_000, 200_000]);
    let etas: Vec<f64> = heads.iter().filter_map(|h| h["effective_eta"].as_f64()).collect();
    let mean = etas.iter().sum::<f64>() / 3.0;
    assert!((v["effective_eta"].as_f64().unwrap_or(f64::NAN) - mean).abs() < 1e-12);
    assert_ne!(v["verdict"], "not_judged");
}

#[test]
fn augmented_one_head_is_not_judged() {
    let out = attnlab(&[
        "icar",
        "augmented",
        "--d",
        "2",
        "--t",
        "6",
        "--steps",
        "100",
        "--batch",
        "32",
        "--eval-samples",
        "500",
        "--heads",
        "1",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // One head's interval would be its evaluation noise only, not the training's: no verdict.
    assert_eq!(v["verdict"], "not_judged");
    assert_eq!(v["eta_verdict"], "not_judged");
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
        (vec!["icar", "augmented", "--d", "3", "--t", "5", "--heads", "0"], "`heads`"),
        (vec!["icar", "diagonal", "--case", "orthogonal", "--d", "5", "--heads", "2"], "`d`"),
        (vec!["icar", "diagonal", "--case", "unitary", "--d", "4", "--heads", "0"], "`heads`"),
    ] {
        let out = attnlab(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{args:?}: {err}");
    }
}
