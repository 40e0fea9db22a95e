//! End-to-end tests of `attnlab paths …`: the JSON keys of `paths theory` on the spec §8.2 case,
//! errors naming the bad field (exit status 2, never a panic), and `paths markov`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::{Command, Output};

use serde_json::{Value, json};

fn attnlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attnlab")).args(args).output().expect("the attnlab binary runs")
}

fn case2() -> Value {
    json!({
        "x": [[[1,0,1],[0,1,0],[1,1,0]], [[0,1,1],[1,0,0],[0,1,1]], [[1,1,0],[1,0,1],[0,0,1]], [[0,0,1],[1,1,1],[1,0,0]]],
        "y": [1, 1, -1, -1],
        "heads": [[[[1,0,0],[0,-1,0],[0,0,2]], [[0,1,0],[1,0,0],[0,0,0]]]],
        "readout": "last_token",
        "tau": 0.05,
        "width": 5
    })
}

fn write_case(name: &str, v: &Value) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("attnlab-paths-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

#[test]
fn theory_json_has_the_required_keys_and_the_spec_values() {
    let p = write_case("case2.json", &case2());
    let out = attnlab(&["paths", "theory", "--input", p.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["U", "u_a", "action_per_width", "train_mean", "iterations", "max_grad"] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    // Spec §8.2 at N = 5.
    let u = &v["U"][0];
    assert!((u[0][0].as_f64().unwrap() - 2.717153).abs() < 1e-6);
    assert!((u[0][1].as_f64().unwrap() + 0.115696).abs() < 1e-6);
    assert!((v["u_a"].as_f64().unwrap() - 1.727934).abs() < 1e-6);
    assert!((v["action_per_width"].as_f64().unwrap() - 4.09879180).abs() < 1e-6);
    assert_eq!(v["train_mean"].as_array().unwrap().len(), 4);
    assert!(v["max_grad"].as_f64().unwrap() < 1e-8);
    // The table form runs too.
    assert!(attnlab(&["paths", "theory", "--input", p.to_str().unwrap()]).status.success());
}

#[test]
fn bad_input_names_the_field() {
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut c = case2();
    c["tau"] = json!(-1.0);
    cases.push((c, "`tau`"));
    let mut c = case2();
    c["width"] = json!(0);
    cases.push((c, "`width`"));
    let mut c = case2();
    c["y"] = json!([1, -1]);
    cases.push((c, "`y`"));
    let mut c = case2();
    c["readout"] = json!("first_token");
    cases.push((c, "`readout`"));
    let mut c = case2();
    c["heads"] = json!([[[[1, 0], [0, 1]]]]);
    cases.push((c, "`heads`"));
    let mut c = case2();
    c["x"][2] = json!([[1, 0], [0, 1], [1, 1]]);
    cases.push((c, "`x`"));
    let mut c = case2();
    c.as_object_mut().unwrap().remove("width");
    cases.push((c, "`width`"));
    for (i, (c, field)) in cases.iter().enumerate() {
        let p = write_case(&format!("bad{i}.json"), c);
        let out = attnlab(&["paths", "theory", "--input", p.to_str().unwrap(), "--json"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        assert!(err.contains(field), "case {i}: error {err:?} does not name {field}");
        assert!(!err.contains("panicked"), "case {i} panicked: {err}");
    }
    let out = attnlab(&["paths", "theory", "--input", "/nonexistent/case.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`input`"));
}

#[test]
fn markov_task_json() {
    let out = attnlab(&["paths", "markov", "--widths", "10,1000", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["widths"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for key in ["gp_accuracy", "gp_good_path_accuracy", "gp_good_denoising_accuracy"] {
        assert!(v[key].as_f64().unwrap() > 0.5, "{key}");
    }
    for r in rows {
        assert!(r["max_grad"].as_f64().unwrap() < 1e-8);
        assert_eq!(r["u"][0].as_array().unwrap().len(), 4);
    }
    let out = attnlab(&["paths", "markov", "--widths", "10,-3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`widths`"));
}
