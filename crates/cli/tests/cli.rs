//! End-to-end tests of the `attnlab` binary: exact JSON output, clear errors naming the field,
//! never a panic, and a `--help` for every command.

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

fn h(x: f64) -> f64 {
    -x * x.ln() - (1.0 - x) * (1.0 - x).ln()
}

#[test]
fn theory_json_is_exact() {
    for (p, q) in [(0.5, 0.8), (0.2, 0.3), (0.9, 0.9), (0.013, 0.977), (0.6, 0.4)] {
        let v = json(&["markov", "theory", "--p", &p.to_string(), "--q", &q.to_string(), "--json"]);
        let pi1 = p / (p + q);
        let hstar = (q / (p + q)) * h(p) + pi1 * h(q);
        let u = h(pi1);
        let got_h = v["entropy_rate"].as_f64().unwrap();
        let got_u = v["unigram_loss"].as_f64().unwrap();
        assert!((got_h - hstar).abs() <= 1e-12, "H* at ({p},{q}): {got_h} vs {hstar}");
        assert!((got_u - u).abs() <= 1e-12, "U at ({p},{q}): {got_u} vs {u}");
    }
    // Spec §6 row (0.5, 0.8): H* = 0.6190, U = 0.6663 nats.
    let v = json(&["markov", "theory", "--p", "0.5", "--q", "0.8", "--json"]);
    assert!((v["entropy_rate"].as_f64().unwrap() - 0.6190).abs() < 5e-5);
    assert!((v["unigram_loss"].as_f64().unwrap() - 0.6663).abs() < 5e-5);
}

#[test]
fn multi_state_and_lagged_options() {
    let v = json(&["markov", "theory", "--p", "0.9", "--states", "5", "--json"]);
    assert!((v["entropy_rate"].as_f64().unwrap() - 1.5727).abs() < 5e-5);
    assert_eq!(v["switching_regime"], serde_json::Value::Bool(true));
    let v = json(&["markov", "theory", "--p", "0.2", "--q", "0.3", "--order", "2", "--json"]);
    let lag = &v["lagged"]["best_loss_with_memory"];
    assert_eq!(lag["m=0"], v["unigram_loss"]);
    assert_eq!(lag["m=1"], v["entropy_rate"]);
}

#[test]
fn bad_input_names_the_field_and_never_panics() {
    let cases: [(&[&str], &str); 8] = [
        (&["markov", "theory", "--p", "1.3", "--q", "0.5"], "`p`"),
        (&["markov", "theory", "--p", "0.3", "--q", "0"], "`q`"),
        (&["markov", "theory", "--p", "nan", "--q", "0.5"], "`p`"),
        (&["markov", "theory", "--p", "-0.2", "--q", "0.5"], "`p`"),
        (&["markov", "theory", "--p", "0.2", "--q", "inf"], "`q`"),
        (&["markov", "theory", "--p", "0.2", "--states", "1"], "`states`"),
        (&["markov", "theory", "--p", "0.2", "--q", "0.3", "--order", "0"], "`order`"),
        (&["markov", "canonical", "--p", "0.2", "--q", "0.3", "--e", "nan", "--w", "0"], "`e`"),
    ];
    for (args, field) in cases {
        let out = attnlab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(err.contains(field), "{args:?}: error does not name {field}: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
    // Work that would run for days is refused with its cost: seeds × steps is bounded (issue 27).
    let out = attnlab(&["markov", "sgd", "--p", "0.5", "--q", "0.3", "--seeds", "1000000", "--steps", "100000000"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`seeds` × `steps`") && err.contains(" h)"), "{err}");
    // A vocabulary too large for memory names `states`, not another field (issue 27).
    let out = attnlab(&["markov", "train", "--p", "0.5", "--states", "1000000000", "--iters", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`states`"), "{err}");
    // A value clap cannot parse at all is a usage error naming the flag.
    let out = attnlab(&["markov", "theory", "--p", "abc", "--q", "0.5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--p"));
}

/// A negative number reaches the field's own rule, which names the field, instead of clap's bare
/// "unexpected argument '-1' found" — single values and comma-separated lists alike (issue 27 item 5).
#[test]
fn negative_numbers_reach_the_fields_rule() {
    let cases: [(&[&str], &str); 4] = [
        (&["paths", "markov", "--tau", "-1"], "`tau`"),
        (&["paths", "markov", "--sigma-perp", "-1"], "`sigma_perp`"),
        (&["paths", "markov", "--widths", "-5,10"], "`widths`"),
        (&["exchangeable", "e5", "--kappas", "-1,2"], "`kappas`"),
    ];
    for (args, field) in cases {
        let out = attnlab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(field), "{args:?}: error does not name {field}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: clap refused the sign: {err}");
    }
}

/// Outputs are checked before any compute (issue 27 item 1): a weights path under a folder that
/// cannot be made, or that is itself a folder, and a sweep `--out` that is a file are refused with
/// exit 2, naming the field and the user's path, before training starts (a regression would train
/// first and fail with "saving weights to …").
#[test]
fn outputs_are_refused_before_computing() {
    let tmp = std::env::temp_dir().join(format!("attnlab-outputs-cli-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let file = tmp.join("plain");
    std::fs::write(&file, b"x").unwrap();
    let under_file = file.join("w.safetensors");
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            ["markov", "train", "--p", "0.5", "--q", "0.8", "--iters", "200", "--save-weights"]
                .iter()
                .map(|s| s.to_string())
                .chain([under_file.display().to_string()])
                .collect(),
            file.display().to_string(),
        ),
        (
            ["markov", "train", "--p", "0.5", "--q", "0.8", "--iters", "200", "--save-weights"]
                .iter()
                .map(|s| s.to_string())
                .chain([tmp.display().to_string()])
                .collect(),
            "is a folder".to_string(),
        ),
        (
            ["markov", "sweep", "--p", "0.2,0.8", "--q", "0.2", "--iters", "10", "--out"]
                .iter()
                .map(|s| s.to_string())
                .chain([file.display().to_string()])
                .collect(),
            "is a file, not a folder".to_string(),
        ),
    ];
    for (args, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = attnlab(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&says), "{args:?}: {err}");
        assert!(!err.contains("saving weights"), "{args:?} trained before checking: {err}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `--config` is strict (issue 27 item 2): a field a config does not have is refused naming it, and
/// a run option given beside the file is refused (the file holds the run; edit it instead).
#[test]
fn config_files_are_strict() {
    let tmp = std::env::temp_dir().join(format!("attnlab-config-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let out = attnlab(&["markov", "train", "--p", "0.5", "--q", "0.8", "--iters", "3", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let good = tmp.join("run.json");
    std::fs::write(&good, serde_json::to_vec(&run).unwrap()).unwrap();
    run["config"]["itres"] = serde_json::json!(30);
    let bad = tmp.join("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&run).unwrap()).unwrap();
    let out = attnlab(&["markov", "train", "--config", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`itres`"), "{err}");
    let out = attnlab(&["markov", "train", "--config", good.to_str().unwrap(), "--p", "0.9", "--iters", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--config") && err.contains("--p"), "{err}");
    // A value of the wrong type names its field.
    run["config"].as_object_mut().unwrap().remove("itres");
    run["config"]["iters"] = serde_json::json!("30");
    std::fs::write(&bad, serde_json::to_vec(&run).unwrap()).unwrap();
    let out = attnlab(&["markov", "train", "--config", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`iters`"), "{err}");
    // The file alone repeats the run.
    let again = attnlab(&["markov", "train", "--config", good.to_str().unwrap(), "--json"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `--version` carries the provenance every result file does: version, commit, Cargo.lock hash.
#[test]
fn version_names_commit_and_lock() {
    let out = attnlab(&["--version"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains(env!("CARGO_PKG_VERSION")) && text.contains("git commit") && text.contains("Cargo.lock sha256 "),
        "{text}"
    );
    let lock = text.split("Cargo.lock sha256 ").nth(1).unwrap_or("").trim_end_matches([')', '\n']);
    assert_eq!(lock.len(), 64, "{text}");
}

#[test]
fn canonical_reports_the_flow_end() {
    let v = json(&["markov", "canonical", "--p", "0.5", "--q", "0.8", "--e", "0.1", "--w", "0.2", "--json"]);
    assert_eq!(v["predicted_basin"], "unigram");
    assert_eq!(v["gradient_flow"]["endpoint"], "unigram");
    assert!(v["grad"]["db"].as_f64().unwrap().abs() < 1e-10);
}

#[test]
fn sgd_small_init_lands_where_theory_says() {
    let v = json(&["markov", "sgd", "--p", "0.5", "--q", "0.8", "--seeds", "20", "--steps", "3000", "--json"]);
    assert_eq!(v["predicted"], "unigram_loss");
    assert_eq!(v["ended_unigram"], 20);
    // 20/20 runs: Wilson interval [0.84, 1] inside the pass interval [0.8, 1].
    assert_eq!(v["verdict"], "agrees");
    let v = json(&["markov", "sgd", "--p", "0.2", "--q", "0.3", "--seeds", "4", "--steps", "3000", "--json"]);
    assert_eq!(v["ended_global"], 4);
    let out = attnlab(&["markov", "sgd", "--p", "0.2", "--q", "0.3", "--momentum", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`momentum`"));
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["markov", "--help"],
        &["markov", "theory", "--help"],
        &["markov", "canonical", "--help"],
        &["markov", "sgd", "--help"],
    ] {
        let out = attnlab(args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage"), "{args:?}: {text}");
    }
    let out = attnlab(&["markov", "theory", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("P(x_{n+1} = 1 | x_n = 0)"));
}

#[test]
fn train_reports_the_required_fields_and_rejects_bad_input() {
    let v = json(&[
        "markov",
        "train",
        "--p",
        "0.7",
        "--q",
        "0.6",
        "--model",
        "theory",
        "--seq-len",
        "32",
        "--iters",
        "30",
        "--json",
    ]);
    for key in [
        "final_loss",
        "final_loss_se",
        "entropy_rate",
        "unigram_loss",
        "ending",
        "plateau_iters",
        "p1_given_0",
        "p1_given_1",
        "wall_s",
    ] {
        assert!(v.get(key).is_some(), "missing `{key}` in {v}");
    }
    assert!((v["entropy_rate"].as_f64().unwrap() - 0.6443).abs() < 1e-3);
    assert!(["global", "unigram", "neither"].contains(&v["ending"].as_str().unwrap()));
    for (args, field) in [
        (vec!["--p", "1.3", "--q", "0.5"], "`p`"),
        (vec!["--p", "0.3", "--q", "0.5", "--d", "0"], "`d`"),
        (vec!["--p", "0.3", "--q", "0.5", "--model", "theory", "--layers", "2"], "`layers`"),
    ] {
        let out = attnlab(&[&["markov", "train"][..], &args].concat());
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field) && !err.contains("panicked"), "{err}");
    }
}

/// The flow used to spin forever when e² overflowed (issue 15): it must answer, or refuse the
/// input naming the field.
#[test]
fn canonical_answers_at_extreme_starts() {
    let out = attnlab(&["markov", "canonical", "--p", "0.5", "--q", "0.8", "--e", "1e200", "--w", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`e`"), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&["markov", "canonical", "--p", "0.5", "--q", "0.8", "--e", "1e10", "--w", "1e10", "--json"]);
    assert_eq!(v["gradient_flow"]["converged"], false);
}

/// `--format jsonl` and `--format csv` print one flat record, with the build's provenance and no
/// string in a numeric column.
#[test]
fn flat_formats_for_tables() {
    let out = attnlab(&["markov", "theory", "--p", "0.3", "--q", "0.5", "--format", "csv"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("chain,p,q,"), "{}", lines[0]);
    assert!(lines[0].contains("attnlab_version") && lines[0].contains("cargo_lock_sha256"), "{}", lines[0]);
    let out = attnlab(&[
        "markov",
        "train",
        "--p",
        "0.5",
        "--q",
        "0.8",
        "--iters",
        "20",
        "--seq-len",
        "32",
        "--format",
        "jsonl",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["p", "q", "order", "lr", "seed", "final_loss", "config.seq_len", "config.iters", "cpu_kernel"] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert!(v["plateau_iters"].is_null() || v["plateau_iters"].is_u64(), "{}", v["plateau_iters"]);
}

/// Saved weights round-trip: `markov eval` on the file `markov train --save-weights` wrote gives
/// back the run's final loss to the last bit (same held-out batches), and refuses a file that is
/// not one of attnlab's.
#[test]
fn saved_weights_give_back_the_final_loss() {
    let dir = std::env::temp_dir().join(format!("attnlab-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("w.safetensors");
    let f = file.to_str().unwrap();
    for model in ["gpt", "theory"] {
        let trained = json(&[
            "markov",
            "train",
            "--p",
            "0.5",
            "--q",
            "0.8",
            "--model",
            model,
            "--iters",
            "30",
            "--seq-len",
            "32",
            "--seed",
            "7",
            "--save-weights",
            f,
            "--json",
        ]);
        // The file has the permissions of any file created here (the safetensors writer alone
        // left it 0600).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.join("plain");
            std::fs::write(&plain, b"x").unwrap();
            let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), mode(&plain), "{model}: weights file mode {:o}", mode(&file));
        }
        let evaluated = json(&["markov", "eval", "--weights", f, "--json"]);
        assert_eq!(
            evaluated["final_loss"].as_f64(),
            trained["final_loss"].as_f64(),
            "{model}: {evaluated} vs {trained}"
        );
        assert_eq!(evaluated["p1_given_0"].as_f64(), trained["p1_given_0"].as_f64(), "{model}");
        assert_eq!(evaluated["config"]["seq_len"], 32);
        // Other held-out batches give another (close) number.
        let other = json(&["markov", "eval", "--weights", f, "--seed", "8", "--json"]);
        assert_ne!(other["final_loss"].as_f64(), trained["final_loss"].as_f64());
    }
    // A killed earlier save left partial files: this host's whose process is gone are removed by
    // the next save there; another host's (a shared folder) stay. The metadata names the build.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>())
        .unwrap_or_else(|_| "host".into());
    let stale = dir.join(format!(".w.safetensors.{host}.999999999.00ab.tmp"));
    let foreign = dir.join(".w.safetensors.some-other-host.1.00ab.tmp");
    std::fs::write(&stale, b"partial").unwrap();
    std::fs::write(&foreign, b"partial").unwrap();
    let out = attnlab(&[
        "markov",
        "train",
        "--p",
        "0.5",
        "--q",
        "0.8",
        "--iters",
        "3",
        "--seq-len",
        "16",
        "--save-weights",
        f,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stale.exists(), "a dead process's partial file was left");
    assert!(foreign.exists(), "another host's partial file was removed");
    let bytes = std::fs::read(&file).unwrap();
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    assert!(text.contains("cargo_lock_sha256") && text.contains("git_commit"), "the weights metadata names the build");
    std::fs::write(&file, b"not safetensors").unwrap();
    let out = attnlab(&["markov", "eval", "--weights", f]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("w.safetensors"), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run repeats from its own output: `markov train --config RUN.json` gives the same numbers.
#[test]
fn a_run_repeats_from_its_own_output() {
    let dir = std::env::temp_dir().join(format!("attnlab-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("run.json");
    let first = attnlab(&[
        "markov",
        "train",
        "--p",
        "0.2",
        "--q",
        "0.3",
        "--model",
        "theory",
        "--iters",
        "25",
        "--seq-len",
        "32",
        "--seed",
        "3",
        "--lr",
        "0.004",
        "--json",
    ]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    std::fs::write(&file, &first.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let again = json(&["markov", "train", "--config", file.to_str().unwrap(), "--json"]);
    for key in ["final_loss", "final_loss_se", "p1_given_0", "lr", "seed", "iters", "model"] {
        assert_eq!(again[key], first[key], "{key}");
    }
    std::fs::write(&file, r#"{"config": {"arch": "gpt"}}"#).unwrap();
    let out = attnlab(&["markov", "train", "--config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Extreme but syntactically valid values in the float fields of the Markov, exchangeable and paths
/// commands (±1e300, 1e-300, the smallest subnormal, NaN, ±∞, ±0): each call exits 0, or 2 with the offending field
/// named (`field` or --flag) — never a panic or a hang (a hang fails the test by timing out CI).
/// Every float field of the exchangeable commands is covered (the ICAR commands have none: their
/// fields are counts, covered by the huge-count test below).
#[test]
fn extreme_values_answer_or_name_the_field() {
    let values = ["1e300", "-1e300", "1e-300", "5e-324", "NaN", "inf", "-inf", "0", "-0"];
    let templates: [&[&str]; 17] = [
        &["exchangeable", "e1", "--replicates", "2", "--w", "V"],
        &["exchangeable", "e2", "--replicates", "2", "--w", "V"],
        &["exchangeable", "e4", "--train-sets", "2", "--test-size", "100", "--w-star", "V"],
        &["exchangeable", "e5", "--n", "200", "--len", "8", "--w", "V"],
        &["exchangeable", "e5", "--n", "200", "--len", "8", "--kappas", "V"],
        &["paths", "markov", "--widths", "10", "--tau", "V"],
        &["paths", "markov", "--widths", "10", "--sigma-perp", "V"],
        &["paths", "markov", "--widths", "V"],
        &["markov", "theory", "--p", "V", "--q", "0.5"],
        &["markov", "theory", "--p", "0.3", "--q", "V"],
        &["markov", "theory", "--p", "V", "--states", "3"],
        &["markov", "canonical", "--p", "0.5", "--q", "0.8", "--e", "V", "--w", "0.2"],
        &["markov", "canonical", "--p", "0.5", "--q", "0.8", "--e", "0.1", "--w", "V"],
        &["markov", "canonical", "--p", "0.5", "--q", "0.8", "--e", "0.1", "--w", "0.2", "--b", "V"],
        &["markov", "canonical", "--p", "0.5", "--q", "0.8", "--e", "0.1", "--w", "0.2", "--t-max", "V"],
        &["markov", "sgd", "--p", "0.5", "--q", "0.8", "--seeds", "2", "--steps", "100", "--lr", "V"],
        &["markov", "sgd", "--p", "0.5", "--q", "0.8", "--seeds", "2", "--steps", "100", "--init-std", "V"],
    ];
    for t in templates {
        for v in values {
            let args: Vec<&str> = t.iter().map(|a| if *a == "V" { v } else { a }).collect();
            let out = attnlab(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) => {}
                Some(2) => {
                    assert!(err.contains('`') || err.contains("--"), "{args:?}: exit 2 without naming the field: {err}")
                }
                // Every run diverged (an SGD learning rate of 1e300): its own outcome, said so.
                Some(3) => assert!(err.contains("outside the theorem's assumptions"), "{args:?}: {err}"),
                other => panic!("{args:?}: exit {other:?}: {err}"),
            }
            assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
    }
}

/// Size fields that would need more memory than any machine has are refused up front, naming the
/// field and giving the estimate — before any allocation, so the call answers at once.
#[test]
fn huge_sizes_are_refused_with_the_memory_estimate() {
    let cases: [(&[&str], &str); 4] = [
        (&["markov", "train", "--p", "0.5", "--q", "0.8", "--seq-len", "1000000000000", "--iters", "1"], "`seq_len`"),
        (&["markov", "train", "--p", "0.5", "--q", "0.8", "--batch", "1000000000000", "--iters", "1"], "`batch`"),
        (&["markov", "train", "--p", "0.5", "--q", "0.8", "--d", "1000000000000", "--iters", "1"], "`d`"),
        (
            &[
                "markov",
                "sweep",
                "--p",
                "0.5",
                "--q",
                "0.5",
                "--seq-len",
                "1000000000000",
                "--out",
                "/nonexistent/never-written",
            ],
            "`seq_len`",
        ),
    ];
    for (args, field) in cases {
        let out = attnlab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(field) && err.contains("GiB"), "{args:?}: {err}");
    }
}

/// Huge counts in every count field of every command (10^12: memory no machine has, or a run of
/// years) exit 2 at once naming the field and its bound — before, 15 of these aborted on a failed
/// allocation or ran on past 10 s.
#[test]
fn huge_counts_name_the_field() {
    const HUGE: &str = "1000000000000";
    let cases: [(&[&str], &str); 20] = [
        (&["icar", "augmented", "--d", "5", "--t", "10", "--steps", HUGE], "steps"),
        (&["icar", "augmented", "--d", "5", "--t", "10", "--batch", HUGE], "batch"),
        (&["icar", "augmented", "--d", "5", "--t", "10", "--eval-samples", HUGE], "eval_samples"),
        (&["icar", "augmented", "--d", HUGE, "--t", "10"], "d"),
        (&["icar", "augmented", "--d", "5", "--t", HUGE], "t"),
        (&["icar", "diagonal", "--case", "unitary", "--d", "10", "--heads", "2", "--iters", HUGE], "iters"),
        (&["icar", "diagonal", "--case", "unitary", "--d", "10", "--heads", "2", "--restarts", HUGE], "restarts"),
        (&["exchangeable", "e1", "--replicates", HUGE], "replicates"),
        (&["exchangeable", "e2", "--replicates", HUGE], "replicates"),
        (&["exchangeable", "e3", "--schedule-replicates", HUGE], "schedule_replicates"),
        (&["exchangeable", "e3", "--cme-replicates", HUGE], "cme_replicates"),
        (&["exchangeable", "e4", "--train-sets", HUGE], "train_sets"),
        (&["exchangeable", "e4", "--test-size", HUGE], "test_size"),
        (&["exchangeable", "e5", "--n", HUGE], "n"),
        (&["exchangeable", "e5", "--len", HUGE], "len"),
        (&["markov", "sgd", "--p", "0.5", "--q", "0.8", "--seeds", HUGE], "seeds"),
        (&["markov", "sgd", "--p", "0.5", "--q", "0.8", "--steps", HUGE], "steps"),
        (&["markov", "train", "--p", "0.5", "--q", "0.8", "--iters", HUGE], "iters"),
        (&["markov", "train", "--p", "0.5", "--q", "0.8", "--eval-batches", HUGE, "--iters", "2"], "eval_batches"),
        (&["markov", "theory", "--p", "0.5", "--q", "0.5", "--order", HUGE], "order"),
    ];
    for (args, field) in cases {
        let out = attnlab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&format!("`{field}`")) && err.contains("at most"), "{args:?}: {err}");
    }
}

/// A reader that goes away (`attnlab … | head`) ends the program quietly: exit 0, no panic. The
/// pipe's read end is closed before the child can write (it is still starting).
#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [
        &["markov", "theory", "--p", "0.5", "--q", "0.8"][..],
        &["markov", "theory", "--p", "0.5", "--q", "0.8", "--json"][..],
        &["markov", "sgd", "--p", "0.5", "--q", "0.8", "--seeds", "2", "--json"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_attnlab"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the attnlab binary runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("it ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && !stderr.contains("panicked"), "{args:?}: {:?} {stderr}", out.status.code());
    }
}

/// A run outside a theorem's assumptions is its own outcome: `markov sgd` whose runs all diverge,
/// `markov train` that diverges, and `markov eval` of weights holding NaN each print their result,
/// warn on stderr and exit 3 (documented in `--help`), and the SGD claim gives no verdict.
#[test]
fn divergence_exits_3_with_a_warning() {
    let out = attnlab(&[
        "markov", "sgd", "--p", "0.5", "--q", "0.8", "--seeds", "3", "--steps", "100", "--lr", "1e9", "--json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("3 of 3 runs diverged") && err.contains("no verdict"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "not_judged");
    assert_eq!(v["diverged"], 3);
    // A learning rate that sends one run of two off but not the other would be exit 3 as well; a
    // plain run is exit 0 with nothing on stderr about divergence.
    let ok = attnlab(&["markov", "sgd", "--p", "0.5", "--q", "0.8", "--seeds", "2", "--steps", "100", "--json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(!String::from_utf8_lossy(&ok.stderr).contains("diverged"));

    let dir = std::env::temp_dir().join(format!("attnlab-diverge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let w = dir.join("w.safetensors");
    let small = ["--p", "0.5", "--q", "0.8", "--d", "4", "--seq-len", "16", "--batch", "2", "--iters", "5"];
    let mut args = vec!["markov", "train"];
    args.extend(small);
    args.extend(["--eval-every", "5", "--eval-batches", "1", "--lr", "1e30", "--json", "--save-weights"]);
    args.push(w.to_str().unwrap());
    let out = attnlab(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("diverged at iteration") && err.contains("exit status 3"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["diverged_at"].is_u64());
    // Its weights hold non-finite values: eval says so instead of printing a null loss as a result.
    let out = attnlab(&["markov", "eval", "--weights", w.to_str().unwrap(), "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("loss is not finite"), "{err}");
    // `--help` documents the statuses.
    let help = String::from_utf8_lossy(&attnlab(&["--help"]).stdout).to_string();
    assert!(help.contains("Exit status") && help.contains("3 done, but outside a theorem's assumptions"), "{help}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `markov eval` takes the run's sizes from the weights file's metadata, which anyone can edit: a
/// forged `iters` / `eval_every` that would replay years of evaluation stream is refused at once,
/// naming the fields, like a training run's sizes.
#[test]
fn eval_does_not_trust_forged_metadata_sizes() {
    let dir = std::env::temp_dir().join(format!("attnlab-forged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let w = dir.join("w.safetensors");
    let out = attnlab(&[
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
        "4",
        "--eval-every",
        "2",
        "--eval-batches",
        "1",
        "--save-weights",
        w.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // safetensors: an 8-byte little-endian header length, the JSON header (the config sits as a
    // string in `__metadata__`), then the tensor bytes at offsets relative to the header's end.
    let bytes = std::fs::read(&w).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let mut cfg: serde_json::Value = serde_json::from_str(header["__metadata__"]["config"].as_str().unwrap()).unwrap();
    cfg["iters"] = serde_json::json!(10_000_000);
    cfg["eval_every"] = serde_json::json!(1);
    cfg["eval_batches"] = serde_json::json!(1000);
    header["__metadata__"]["config"] = serde_json::Value::String(cfg.to_string());
    let new_header = serde_json::to_vec(&header).unwrap();
    let mut forged = (new_header.len() as u64).to_le_bytes().to_vec();
    forged.extend(&new_header);
    forged.extend(&bytes[8 + n..]);
    std::fs::write(&w, forged).unwrap();
    let t0 = std::time::Instant::now();
    let out = attnlab(&["markov", "eval", "--weights", w.to_str().unwrap(), "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`iters`") && err.contains("metadata"), "{err}");
    assert!(t0.elapsed().as_secs() < 10, "refused only after {:?}", t0.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}
