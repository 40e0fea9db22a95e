//! The cache key covers exactly the code an experiment runs: editing a caption, a claim or another
//! paper's experiment changes no paper's key; editing a paper's experiment, theory or the trainer
//! changes exactly the keys of the papers that run it; a dependency bump in Cargo.lock changes the
//! keys of the papers built on that dependency, and a dependency of the figures alone changes none.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "../build/source_hash.rs"]
mod source_hash;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Copies what the hash can read (`Cargo.lock`, and under `crates/` every `.rs` and `Cargo.toml`)
/// into a fresh folder, so the test can edit files without touching the checkout.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else if src.extension().is_some_and(|x| x == "rs") || e.file_name() == "Cargo.toml" {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("attnlab-cache-key-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = workspace();
        copy_tree(&root.join("crates"), &dir.join("crates"));
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy Cargo.lock");
        Self(dir)
    }

    /// The key of every paper, then of every unit keyed on its own (a Markov training run).
    fn hashes(&self) -> Vec<(String, String)> {
        let papers = source_hash::papers(&self.0).into_iter().map(|p| (p.clone(), source_hash::hash(&self.0, &p)));
        let units = source_hash::UNITS.iter().map(|(n, _)| ((*n).to_string(), source_hash::hash_files(&self.0, &source_hash::unit_inputs(&self.0, n))));
        papers.chain(units).collect()
    }

    /// Appends a comment to `rel` and returns the papers whose key changed.
    fn touch(&self, rel: &str) -> Vec<String> {
        self.edit(rel, |text| text.push_str("\n// edited by the cache-key test\n"))
    }

    /// Edits `rel` with `f` and returns the papers (and units) whose key changed.
    fn edit(&self, rel: &str, f: impl FnOnce(&mut String)) -> Vec<String> {
        let before = self.hashes();
        let path = self.0.join(rel);
        assert!(path.is_file(), "{rel} is missing: update this test to the current layout");
        let mut text = std::fs::read_to_string(&path).expect("read");
        let old = text.clone();
        f(&mut text);
        assert_ne!(text, old, "the edit of {rel} changed nothing: update this test to the current file");
        std::fs::write(&path, text).expect("write");
        let after = self.hashes();
        before.iter().zip(&after).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0.clone()).collect()
    }

    /// Bumps the version of package `name` in Cargo.lock (its entry and every dependency list that
    /// names that version) and returns the papers whose key changed.
    fn bump(&self, name: &str) -> Vec<String> {
        self.edit("Cargo.lock", |lock| {
            let head = format!("name = \"{name}\"\nversion = \"");
            let at = lock.find(&head).unwrap_or_else(|| panic!("{name} is not in Cargo.lock")) + head.len();
            let version = lock[at..].split('"').next().unwrap_or_default().to_string();
            *lock = lock.replace(&format!("{head}{version}\""), &format!("{head}{version}-bumped\""));
            *lock = lock.replace(&format!("\"{name} {version}\""), &format!("\"{name} {version}-bumped\""));
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_paper_has_a_key_and_the_build_baked_the_current_one() {
    let root = workspace();
    let papers = source_hash::papers(&root);
    assert_eq!(papers, ["exchangeable", "icar", "markov", "paths"]);
    for (u, _) in source_hash::UNITS {
        let baked = attnlab_lab::experiment::source_hashes().iter().find(|(q, _)| q == u).map(|(_, h)| *h);
        assert_eq!(baked, Some(source_hash::hash_files(&root, &source_hash::unit_inputs(&root, u)).as_str()), "{u}: the baked hash is stale");
    }
    for p in &papers {
        let baked = attnlab_lab::experiment::source_hashes().iter().find(|(q, _)| q == p).map(|(_, h)| *h);
        assert_eq!(baked, Some(source_hash::hash(&root, p).as_str()), "{p}: the baked hash is stale");
    }
}

#[test]
fn drawing_and_claims_rerun_nothing() {
    let s = Scratch::new("draw");
    for rel in [
        "crates/figures/src/lib.rs",
        "crates/figures/src/markov/mod.rs",
        "crates/figures/src/paths/mod.rs",
        "crates/figures/src/style.rs",
        "crates/lab/src/lib.rs",
        "crates/lab/src/markov/claims/mod.rs",
        "crates/lab/src/icar/claims/mod.rs",
        "crates/lab/src/paths/claims/mod.rs",
        "crates/lab/src/exchangeable/claims/mod.rs",
        "crates/cli/src/lib.rs",
    ] {
        assert_eq!(s.touch(rel), Vec::<String>::new(), "editing {rel} must rerun no experiment");
    }
}

#[test]
fn an_experiment_edit_reruns_only_the_papers_that_run_it() {
    let s = Scratch::new("exp");
    for p in ["exchangeable", "icar", "markov", "paths"] {
        assert_eq!(s.touch(&format!("crates/lab/src/{p}/experiments/mod.rs")), [p], "lab {p} experiments");
    }
    // A figure's list of runs (its grid, its seeds) is the paper's experiment, not the runs' code:
    // runs already computed stay valid. The run's own file reruns every run (and the paper).
    assert_eq!(s.touch("crates/lab/src/markov/experiments/train/phase.rs"), ["markov"]);
    assert_eq!(s.touch("crates/lab/src/markov/experiments/train/run.rs"), ["markov", "markov.train.run"]);
    for p in ["exchangeable", "icar", "paths"] {
        assert_eq!(s.touch(&format!("crates/{p}/src/lib.rs")), [p], "{p} theory crate");
    }
    // The candle trainer links the Markov chains (its data), and the paths stand-in trains on the
    // trainer: the key follows crates, so a Markov theory edit reruns the paths experiments too.
    assert_eq!(s.touch("crates/markov/src/lib.rs"), ["markov", "paths", "markov.train.run"], "markov theory crate");
    assert_eq!(s.touch("crates/trainer/src/lib.rs"), ["markov", "paths", "markov.train.run"], "the candle trainer");
    assert_eq!(s.touch("crates/lab/src/experiment.rs"), ["exchangeable", "icar", "markov", "paths"]);
    assert_eq!(s.touch("crates/core/src/lib.rs"), ["exchangeable", "icar", "markov", "paths", "markov.train.run"]);
}

#[test]
fn a_lock_change_reruns_the_papers_built_on_that_dependency_only() {
    let s = Scratch::new("lock");
    // A comment is not a dependency.
    assert_eq!(s.touch("Cargo.lock"), Vec::<String>::new());
    // serde_json: every paper stores its results with it (through the lab crate).
    assert_eq!(s.bump("serde_json"), ["exchangeable", "icar", "markov", "paths", "markov.train.run"]);
    // candle-core: the trainer's, so the Markov runs and the paths stand-in that trains on it.
    assert_eq!(s.bump("candle-core"), ["markov", "paths", "markov.train.run"]);
    // A package only the figures use (the font outliner of the SVGs) reruns nothing, and neither
    // does a new dependency of the figures crate.
    assert_eq!(s.bump("plotters"), Vec::<String>::new());
    assert_eq!(
        s.edit("Cargo.lock", |lock| {
            let at = lock.find("name = \"attnlab-figures\"").expect("attnlab-figures in Cargo.lock");
            let deps = lock[at..].find("dependencies = [\n").expect("its dependency list") + at + "dependencies = [\n".len();
            lock.insert_str(deps, " \"a-new-figure-dependency\",\n");
        }),
        Vec::<String>::new()
    );
}

#[test]
fn the_lock_closure_follows_dependency_lists_and_versions() {
    let lock = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"b 1.0.0\",\n \"w\",\n]\n\n\
        [[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+x\"\n\n\
        [[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"registry+x\"\n\n\
        [[package]]\nname = \"w\"\nversion = \"0.1.0\"\ndependencies = [\n \"c\",\n]\n\n\
        [[package]]\nname = \"c\"\nversion = \"3.0.0\"\nsource = \"registry+x\"\n";
    let roots = |r: &[&str]| r.iter().map(|s| (*s).to_string()).collect::<std::collections::BTreeSet<_>>();
    let packages = |text: String| text.lines().filter(|l| !l.starts_with(' ')).map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>();
    // `b 1.0.0` only (not b 2.0.0); the workspace package w is left out unless it is a root.
    assert_eq!(packages(source_hash::lock_closure(lock, &roots(&["a"]))), ["a 0.1.0", "b 1.0.0"]);
    assert_eq!(packages(source_hash::lock_closure(lock, &roots(&["a", "w"]))), ["a 0.1.0", "b 1.0.0", "c 3.0.0", "w 0.1.0"]);
    // The lock names a dependency's version only when two are locked: the same resolution, written
    // with or without it, is the same closure.
    let implicit = "[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"b\",\n]\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+x\"\n";
    let explicit = format!("{}\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"registry+x\"\n", implicit.replace("\"b\",", "\"b 1.0.0\","));
    assert_eq!(source_hash::lock_closure(implicit, &roots(&["a"])), source_hash::lock_closure(&explicit, &roots(&["a"])));
}

/// An experiment may use only the shared run helpers and its own paper's experiment modules (plus
/// workspace crates, which the key follows): anything else it used would escape the key. The one
/// exception is `crate::task`, the scheduler: experiments name their tasks with it (what to run,
/// under which key), but nothing it does enters a result — a result is computed by the
/// experiment's own code under `Lab::cached`, whose key covers that code.
#[test]
fn experiments_import_nothing_outside_the_key() {
    let root = workspace();
    let allowed = ["crate::experiment", "crate::progress", "crate::LabError", "crate::Lab", "crate::Mode", "crate::task::"];
    for p in source_hash::papers(&root) {
        for rel in source_hash::inputs(&root, &p).iter().filter(|r| r.contains(&format!("lab/src/{p}/experiments/"))) {
            let text = std::fs::read_to_string(root.join(rel)).expect("read");
            let own = format!("crate::{p}::experiments");
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i..];
                let ok = allowed.iter().any(|a| rest.starts_with(a)) || rest.starts_with(&own);
                assert!(ok, "{rel} uses `{}`, which the cache key does not cover", &rest[..rest.len().min(40)]);
            }
            assert!(!text.contains("claims::"), "{rel}: an experiment must not depend on claims");
        }
    }
}
