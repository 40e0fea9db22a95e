//! `cargo xtask rekey`'s core: tasks cached under an older code version (simulated here by moving
//! fast-run records to a made-up old version, as an edit of the trainer would leave them) are
//! verified on a sample covering every code path and carried over, so nothing is left to compute;
//! a sample whose rerun differs from its old record carries nothing over.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use attnlab_core::{CacheKey, ResultRecord};
use attnlab_lab::markov::experiments::train::attention;
use attnlab_lab::{Lab, Mode, registry, rekey};
use serde_json::Value;

/// A cache with every fast attention run computed, then moved under code version `old` (old key,
/// old code version in the record), as a previous build would have stored it.
fn aged_cache(name: &str, old: &str) -> (Lab, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("attnlab-rekey-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lab = Lab::new(&dir, false, Mode::Fast);
    let plan = registry::plan(&lab, [attention::ID]).unwrap();
    assert!(registry::execute(&lab, &plan, 2).failures.is_empty());
    for t in &plan {
        let path = lab.cache.entry_path_of(&t.key);
        let mut rec: ResultRecord<Value, Value> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        rec.code_version = old.into();
        // The old trainer also stored how the run ended.
        rec.result["ending"] = serde_json::to_value(attnlab_lab::markov::claims::train::ending::Ending::of(
            &serde_json::from_value(rec.result.clone()).unwrap(),
        ))
        .unwrap();
        lab.cache.store(&rec).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(lab.cache.entry_path_of(&CacheKey::new(&rec.id, &rec.config, rec.seed, old).digest()).is_file());
    }
    (lab, dir)
}

#[test]
fn identical_samples_carry_every_task_over() {
    let (lab, dir) = aged_cache("same", "0.0.0.src-old");
    let plan = registry::plan(&lab, [attention::ID]).unwrap();
    assert!(plan.iter().all(|t| !t.cached), "the new code version misses every task");
    let groups = rekey::groups(&lab, &plan);
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(
        (g.unit.as_str(), g.from.as_str(), g.candidates.len()),
        ("markov.train.run", "0.0.0.src-old", plan.len())
    );
    // The fast attention runs share one code path (theory model, tied, binary, probe): one rerun.
    assert_eq!(g.sample.len(), 1);
    let out = rekey::rekey(&lab, &plan, &groups, "abc123", 1).unwrap();
    assert!(out[0].differences.is_empty() && out[0].failures.is_empty(), "{:?}", out[0]);
    assert_eq!(out[0].aliased, plan.len() - 1);
    assert_eq!(out[0].dropped, ["result.ending"]);
    assert_eq!(out[0].rederived, ["result.ending"]);
    let after = registry::plan(&lab, [attention::ID]).unwrap();
    assert!(after.iter().all(|t| t.cached), "0 to compute after rekey");
    let carried: Vec<ResultRecord<Value, Value>> = after
        .iter()
        .map(|t| serde_json::from_slice(&std::fs::read(lab.cache.entry_path_of(&t.key)).unwrap()).unwrap())
        .collect();
    assert_eq!(carried.iter().filter(|r| r.rekeyed.is_some()).count(), plan.len() - 1);
    for r in carried.iter().filter_map(|r| r.rekeyed.as_ref()) {
        assert_eq!((r.from_code_version.as_str(), r.verified_by.as_str()), ("0.0.0.src-old", "abc123"));
    }
    assert!(carried.iter().all(|r| r.result.get("ending").is_none()), "the dropped field is not carried");
    assert!(attention::run(&lab.drawing()).is_ok(), "the carried records draw");
    let log = std::fs::read_to_string(dir.join("aliases.jsonl")).unwrap();
    assert!(log.contains("\"verified_by\":\"abc123\"") && log.contains("\"aliased\":"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_differing_sample_carries_nothing_over() {
    let (lab, dir) = aged_cache("differ", "0.0.0.src-old");
    let plan = registry::plan(&lab, [attention::ID]).unwrap();
    let groups = rekey::groups(&lab, &plan);
    // The old record of the sampled task says another final loss: the refactor moved a number.
    let sampled = &groups[0].candidates[groups[0].sample[0]];
    let path = lab.cache.entry_path_of(&sampled.old_digest);
    let mut rec: ResultRecord<Value, Value> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let loss = rec.result["final_loss"].as_f64().unwrap();
    rec.result["final_loss"] = Value::from(loss + 1e-12);
    lab.cache.store(&rec).unwrap();
    let out = rekey::rekey(&lab, &plan, &groups, "abc123", 1).unwrap();
    assert_eq!(out[0].aliased, 0);
    assert!(out[0].differences.iter().any(|d| d.contains("result.final_loss")), "{:?}", out[0].differences);
    let after = registry::plan(&lab, [attention::ID]).unwrap();
    assert_eq!(after.iter().filter(|t| !t.cached).count(), plan.len() - 1, "only the rerun sample is cached");
    assert!(!dir.join("aliases.jsonl").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
