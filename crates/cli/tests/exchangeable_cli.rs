//! End-to-end tests of `attnlab exchangeable e1 … e5`: the required JSON keys (`slope`, a
//! two-number `slope_ci`, `verdict`; `ratios` per κ for E5) at small sizes, and bad input failing
//! with exit status 2 and a message naming the field, never a panic.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::{Command, Output};

fn attnlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attnlab")).args(args).output().expect("the attnlab binary runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = attnlab(args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

fn assert_slope_keys(v: &serde_json::Value, what: &str) {
    let slope = v["slope"].as_f64().unwrap_or_else(|| panic!("{what}: no numeric slope in {v}"));
    let ci = v["slope_ci"].as_array().unwrap_or_else(|| panic!("{what}: no slope_ci"));
    assert_eq!(ci.len(), 2, "{what}: slope_ci must be two numbers");
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(lo <= slope && slope <= hi, "{what}: slope {slope} outside its CI [{lo}, {hi}]");
    assert!(["agrees", "disagrees", "inconclusive"].contains(&v["verdict"].as_str().unwrap()), "{what}: verdict");
}

#[test]
fn every_experiment_reports_slope_and_ci() {
    let v = json(&["exchangeable", "e1", "--replicates", "40", "--seed", "3", "--json"]);
    assert_slope_keys(&v, "e1");
    assert_eq!(v["lens"].as_array().unwrap().len(), 9);
    // Bounded keys at W = 2I: even 40 replicates put the slope near −1/2.
    assert!((v["slope"].as_f64().unwrap() + 0.5).abs() < 0.15, "e1 slope {}", v["slope"]);
    // One E1 judgement (the all-L fit); the L ≥ 64 fit is listed without a verdict of its own.
    assert!(v["slope_l_ge_64"]["slope"].as_f64().is_some());
    assert!(v["slope_l_ge_64"].get("verdict").is_none(), "the L ≥ 64 fit must not be judged: {}", v["slope_l_ge_64"]);
    let v = json(&["exchangeable", "e2", "--replicates", "8", "--json"]);
    assert_slope_keys(&v, "e2");
    assert_eq!(v["curves"].as_array().unwrap().len(), 3);
    let v = json(&[
        "exchangeable",
        "e3",
        "--replicates",
        "20",
        "--schedule-replicates",
        "20",
        "--cme-replicates",
        "4",
        "--json",
    ]);
    assert_slope_keys(&v, "e3");
    assert!(v["cme_nw"]["slope"].as_f64().is_some());
    assert_eq!(v["argmin_slope"]["slope_ci"].as_array().unwrap().len(), 2);
    let v = json(&["exchangeable", "e4", "--train-sets", "3", "--test-size", "300", "--json"]);
    assert_slope_keys(&v, "e4");
    assert_eq!(v["per_len"].as_array().unwrap().len(), 3);
    let v = json(&["exchangeable", "e5", "--n", "200", "--len", "128", "--json"]);
    assert_slope_keys(&v, "e5");
    let ratios = v["ratios"].as_array().unwrap();
    assert_eq!(ratios.len(), 4, "one ratio entry per κ");
    for (r, k) in ratios.iter().zip([1.0, 2.0, 4.0, 8.0]) {
        assert_eq!(r["kappa"].as_f64().unwrap(), k);
        assert!(r["theta_e1"].as_f64().unwrap() > 0.0 && r["theta_e2"].as_f64().unwrap() > 0.0);
    }
    // The same seed gives the same numbers.
    let a = json(&["exchangeable", "e5", "--n", "50", "--len", "32", "--seed", "9", "--json"]);
    let b = json(&["exchangeable", "e5", "--n", "50", "--len", "32", "--seed", "9", "--json"]);
    assert_eq!(a["ratios"], b["ratios"]);
}

#[test]
fn text_output_is_a_table() {
    let out = attnlab(&["exchangeable", "e5", "--n", "50", "--len", "32"]);
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("slope") && s.contains("verdict"), "{s}");
}

#[test]
fn bad_input_names_the_field_and_never_panics() {
    let cases: [(&[&str], &str); 9] = [
        (&["exchangeable", "e1", "--w", "nan"], "`w`"),
        (&["exchangeable", "e1", "--w", "-1"], "`w`"),
        (&["exchangeable", "e1", "--replicates", "1"], "`replicates`"),
        (&["exchangeable", "e2", "--w", "inf"], "`w`"),
        (&["exchangeable", "e4", "--train-sets", "1"], "`train_sets`"),
        (&["exchangeable", "e4", "--w-star", "0"], "`w_star`"),
        // Outside the ERM's search range [0.25, 16]: every fit would sit on its edge (was NaN).
        (&["exchangeable", "e4", "--w-star", "100"], "`w_star`"),
        (&["exchangeable", "e5", "--kappas", "0.5,2"], "`kappas`"),
        (&["exchangeable", "e5", "--n", "3"], "`n`"),
    ];
    for (args, field) in cases {
        let out = attnlab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} should exit with status 2: {err}");
        assert!(err.contains(field), "{args:?}: error does not name {field}: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
    let out = attnlab(&["exchangeable", "e1", "--replicates", "many"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replicates"));
}
