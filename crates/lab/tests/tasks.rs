//! Tasks: a plan lists each unit of work once (a task two figures share names both), one task per
//! training run for the Markov training figures; running a task stores its result under the
//! planned key, so the next plan finds it cached; a task from another build is refused.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use attnlab_lab::registry;
use attnlab_lab::task::TRAIN_RUN;
use attnlab_lab::{Lab, Mode};

fn lab(name: &str) -> (Lab, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("attnlab-tasks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    (Lab::new(&dir, false, Mode::Fast), dir)
}

#[test]
fn a_plan_lists_each_unit_once() {
    let (lab, dir) = lab("plan");
    let figures = [
        "paths.fig2c.accuracy",
        "paths.fig2c.order",
        "paths.kernels",
        "paths.fig2e.accuracy",
        "markov.train.phase",
        "markov.canonical.sgd",
    ];
    let plan = registry::plan(&lab, figures).unwrap();
    let mut keys: Vec<&str> = plan.iter().map(|t| t.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), plan.len(), "a key is planned twice");
    let markov4 = plan.iter().find(|t| t.experiment == "paths.markov4").unwrap();
    assert_eq!(markov4.figures, ["paths.fig2c.accuracy", "paths.fig2c.order", "paths.kernels"]);
    // Fast phase grid: 3 × 3 cells, 4 models, 1 seed — one task per run, all distinct.
    let phase: Vec<_> = plan.iter().filter(|t| t.figures == ["markov.train.phase"]).collect();
    assert_eq!(phase.len(), 36);
    assert!(phase.iter().all(|t| t.experiment == TRAIN_RUN && t.config.get("seq_len").is_some()));
    assert!(plan.iter().all(|t| !t.cached && t.cost_s > 0.0));
    assert!(registry::plan(&lab, ["markov.nope"]).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_task_runs_under_its_planned_key_and_another_build_is_refused() {
    let (lab, dir) = lab("run");
    let plan = registry::plan(&lab, ["markov.canonical.sgd", "markov.train.attention"]).unwrap();
    let done = registry::execute(&lab, &plan, 2);
    assert!(done.failures.is_empty(), "{:?}", done.failures);
    assert!(done.status.iter().all(Option::is_some), "every task ran");
    let again = registry::plan(&lab, ["markov.canonical.sgd", "markov.train.attention"]).unwrap();
    assert!(again.iter().all(|t| t.cached), "what ran is stored under the planned keys");
    assert_eq!(again.iter().map(|t| &t.key).collect::<Vec<_>>(), plan.iter().map(|t| &t.key).collect::<Vec<_>>());
    let rerun = registry::execute(&lab, &again, 1);
    assert!(rerun.status.iter().all(Option::is_none), "cached tasks are not run again");
    let mut foreign = plan[0].clone();
    foreign.code_version = "0.0.0-another-build".into();
    let e = registry::run(&lab, &foreign).unwrap_err().to_string();
    assert!(e.contains("another-build") && e.contains("plan again"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Drawing never computes: before its runs are cached, a training figure's record fails naming a
/// run and writes nothing; a truncated entry is "to compute" in the next plan (named damaged), and
/// drawing then fails naming it instead of training it again.
#[test]
fn a_damaged_entry_is_to_compute_and_drawing_never_computes() {
    use attnlab_lab::markov::experiments::train::attention;
    let (lab, dir) = lab("damaged");
    let plan = registry::plan(&lab, [attention::ID]).unwrap();
    let e = attention::run(&lab.drawing()).unwrap_err().to_string();
    assert!(e.contains("not in the cache: markov.train.run") && e.contains("no cached result"), "{e}");
    assert!(!dir.exists() || std::fs::read_dir(&dir).unwrap().next().is_none(), "drawing wrote into the cache");
    let done = registry::execute(&lab, &plan, 2);
    assert!(done.failures.is_empty(), "{:?}", done.failures);
    assert!(attention::run(&lab.drawing()).is_ok(), "every run cached: it draws");
    let path = lab.cache.entry_path_of(&plan[0].key);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 3]).unwrap();
    let again = registry::plan(&lab, [attention::ID]).unwrap();
    assert!(
        !again[0].cached && again[0].damaged.as_deref().is_some_and(|w| w.contains("damaged entry")),
        "{:?}",
        again[0].damaged
    );
    assert!(again[1..].iter().all(|t| t.cached && t.damaged.is_none()));
    let e = attention::run(&lab.drawing()).unwrap_err().to_string();
    assert!(e.contains(&plan[0].key[..12]) && e.contains("damaged entry"), "{e}");
    // The run phase computes it again; then it draws.
    assert_eq!(registry::execute(&lab, &again, 1).status.iter().filter(|s| s.is_some()).count(), 1);
    assert!(attention::run(&lab.drawing()).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}
