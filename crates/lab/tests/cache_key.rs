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
        let units = source_hash::UNITS.iter().map(|u| {
            (u.name.to_string(), source_hash::hash_files(&self.0, &source_hash::unit_inputs(&self.0, u.name)))
        });
        papers.chain(units).collect()
    }

    /// Appends a new item to the Rust source `rel` (a comment to any other file) and returns the
    /// papers whose key changed.
    fn touch(&self, rel: &str) -> Vec<String> {
        let extra = if rel.ends_with(".rs") {
            "\nconst _EDITED_BY_THE_CACHE_KEY_TEST: u8 = 0;\n"
        } else {
            "\n# edited by the cache-key test\n"
        };
        self.edit(rel, |text| text.push_str(extra))
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
    for u in source_hash::UNITS.iter().map(|u| u.name) {
        let baked = attnlab_lab::experiment::source_hashes().iter().find(|(q, _)| *q == u).map(|(_, h)| *h);
        assert_eq!(
            baked,
            Some(source_hash::hash_files(&root, &source_hash::unit_inputs(&root, u)).as_str()),
            "{u}: the baked hash is stale"
        );
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
            let deps =
                lock[at..].find("dependencies = [\n").expect("its dependency list") + at + "dependencies = [\n".len();
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
    let packages = |text: String| {
        text.lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    // `b 1.0.0` only (not b 2.0.0); the workspace package w is left out unless it is a root.
    assert_eq!(packages(source_hash::lock_closure(lock, &roots(&["a"]))), ["a 0.1.0", "b 1.0.0"]);
    assert_eq!(
        packages(source_hash::lock_closure(lock, &roots(&["a", "w"]))),
        ["a 0.1.0", "b 1.0.0", "c 3.0.0", "w 0.1.0"]
    );
    // The lock names a dependency's version only when two are locked: the same resolution, written
    // with or without it, is the same closure.
    let implicit = "[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"b\",\n]\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+x\"\n";
    let explicit = format!(
        "{}\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"registry+x\"\n",
        implicit.replace("\"b\",", "\"b 1.0.0\",")
    );
    assert_eq!(
        source_hash::lock_closure(implicit, &roots(&["a"])),
        source_hash::lock_closure(&explicit, &roots(&["a"]))
    );
}

/// An experiment may use only the shared run helpers and its own paper's experiment modules (plus
/// workspace crates, which the key follows): anything else it used would escape the key. The one
/// exception is `crate::task`, the scheduler: experiments name their tasks with it (what to run,
/// under which key), but nothing it does enters a result — a result is computed by the
/// experiment's own code under `Lab::cached`, whose key covers that code.
#[test]
fn experiments_import_nothing_outside_the_key() {
    let root = workspace();
    let allowed = ["experiment", "progress", "LabError", "Lab", "Mode", "task"];
    for p in source_hash::papers(&root) {
        for rel in source_hash::inputs(&root, &p).iter().filter(|r| r.contains(&format!("lab/src/{p}/experiments/"))) {
            // The code as compiled (doc comments may name anything).
            let text = source_hash::canonical(rel, &std::fs::read_to_string(root.join(rel)).expect("read"));
            for (i, _) in text.match_indices("crate :: ") {
                let rest = &text[i + "crate :: ".len()..];
                // `crate :: a :: …` or `crate :: { a , b :: … }`: the first name of each path.
                let heads: Vec<&str> = match rest.strip_prefix("{ ") {
                    Some(group) => group
                        .split('}')
                        .next()
                        .unwrap_or_default()
                        .split(',')
                        .filter_map(|x| x.split_whitespace().next())
                        .collect(),
                    None => rest.split_whitespace().next().into_iter().collect(),
                };
                for head in heads {
                    let own = head == p && rest.starts_with(&format!("{p} :: experiments"));
                    assert!(
                        allowed.contains(&head) || own,
                        "{rel} uses `crate::{head}`, which the cache key does not cover"
                    );
                }
            }
            assert!(!text.contains("claims ::"), "{rel}: an experiment must not depend on claims");
        }
    }
}

/// The key follows the tokens a build compiles, not the bytes: comments, doc comments, blank lines
/// and re-indentation, and a `#[cfg(test)]` module change no key; a new item does, used or not.
#[test]
fn comments_docs_formatting_and_tests_change_no_key() {
    let s = Scratch::new("tokens");
    for rel in [
        "crates/trainer/src/train.rs",
        "crates/core/src/stats.rs",
        "crates/kernels/src/attention.rs",
        "crates/trainer/src/lib.rs",
        "crates/lab/src/markov/experiments/train/run.rs",
    ] {
        let none = Vec::<String>::new();
        assert_eq!(s.edit(rel, |t| t.push_str("\n// a comment\n/* a block comment */\n")), none, "comments in {rel}");
        assert_eq!(s.edit(rel, |t| *t = t.replace("    ", "  ").replace('\n', "\n\n")), none, "formatting of {rel}");
        assert_eq!(
            s.edit(rel, |t| t
                .push_str("\n#[cfg(test)]\nmod more_tests {\n    #[test]\n    fn t() { assert_eq!(1 + 1, 2); }\n}\n")),
            none,
            "a test module in {rel}"
        );
        // A doc comment on the first item of the file (an inner one where the file starts with one).
        assert_eq!(
            s.edit(rel, |t| {
                let at = t.find("\npub ").or_else(|| t.find("\nuse ")).expect("an item") + 1;
                t.insert_str(at, "/// A doc comment added by the cache-key test.\n");
            }),
            none,
            "a doc comment in {rel}"
        );
        // `cfg(not(test))` code is built: it is not a test.
        assert_ne!(
            s.edit(rel, |t| t.push_str("\n#[cfg(not(test))]\nconst _NOT_A_TEST: u8 = 0;\n")),
            none,
            "cfg(not(test)) code in {rel}"
        );
    }
    assert_eq!(
        s.edit("crates/trainer/Cargo.toml", |t| t.push_str("\n# a comment\n\n")),
        Vec::<String>::new(),
        "a manifest comment"
    );
    // A new item, even one nothing uses, is compiled code.
    assert_eq!(
        s.edit("crates/trainer/src/train.rs", |t| t.push_str("\npub const X: u32 = 1;\n")),
        ["markov", "paths", "markov.train.run"]
    );
}

/// A Markov training run's key leaves out the files a run never executes (they still key the
/// papers whose other experiments run them).
#[test]
fn a_training_run_is_keyed_on_the_code_it_runs() {
    let s = Scratch::new("unit");
    assert_eq!(
        s.touch("crates/trainer/src/exact.rs"),
        ["markov", "paths"],
        "the exact loss is the canonical experiments'"
    );
    assert_eq!(s.touch("crates/trainer/src/bench.rs"), ["markov", "paths"]);
    assert_eq!(s.touch("crates/trainer/src/weights.rs"), ["markov", "paths"], "saving weights");
    assert_eq!(s.touch("crates/markov/src/canonical.rs"), ["markov", "paths"]);
    assert_eq!(s.touch("crates/core/src/cache.rs"), ["exchangeable", "icar", "markov", "paths"]);
    // The comparator judges; only the exchangeability experiments compute with it (a t quantile of
    // their summary intervals). The trainer no longer depends on it.
    assert_eq!(s.touch("crates/comparator/src/lib.rs"), ["exchangeable"], "the comparator");
    assert_eq!(s.touch("crates/trainer/src/model.rs"), ["markov", "paths", "markov.train.run"]);
}

/// What a unit's key leaves out must really never run in it: no file in the key names a module
/// left out (`exact::`, `use …::exact`) or an item its crate re-exports from it
/// (`attnlab_markov::Canonical`). The unit's own file only stores the run (its cache status).
#[test]
fn what_a_unit_leaves_out_is_never_named_by_what_it_runs() {
    let root = workspace();
    for unit in source_hash::UNITS {
        let inputs = source_hash::unit_inputs(&root, unit.name);
        for (left_out, why) in unit.never_run {
            assert!(root.join(left_out).is_file(), "{left_out} ({why}) does not exist: update UNITS");
            assert!(!inputs.contains(&left_out.to_string()));
            let module = left_out.rsplit('/').next().and_then(|f| f.strip_suffix(".rs")).expect("a .rs file");
            let crate_root = left_out.rsplit_once('/').map(|(dir, _)| format!("{dir}/lib.rs")).expect("a folder");
            let lib =
                source_hash::canonical(&crate_root, &std::fs::read_to_string(root.join(&crate_root)).expect("lib.rs"));
            // Names the crate root re-exports from the module: `pub use module :: { A , B } ;`.
            let reexported: Vec<String> = lib
                .split(&format!("pub use {module} ::"))
                .skip(1)
                .flat_map(|rest| {
                    rest.split(';')
                        .next()
                        .unwrap_or_default()
                        .split([',', '{', '}', ' '])
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .filter(|w| w.chars().next().is_some_and(char::is_alphabetic))
                .collect();
            for rel in inputs.iter().filter(|r| r.ends_with(".rs") && **r != crate_root && *r != unit.file) {
                let text = source_hash::canonical(rel, &std::fs::read_to_string(root.join(rel)).expect("read"));
                let words: Vec<&str> = text.split(' ').collect();
                for w in words.windows(2) {
                    assert!(
                        !(w[0] == module && w[1].starts_with("::")),
                        "{rel} names `{module}::`, which {} leaves out ({why})",
                        unit.name
                    );
                }
                assert!(
                    !text.contains(&format!(":: {module} ;")) && !text.contains(&format!(":: {module} ,")),
                    "{rel} imports `{module}`"
                );
                for name in &reexported {
                    assert!(
                        !words.contains(&name.as_str()),
                        "{rel} uses `{name}` from {left_out}, which {} leaves out ({why})",
                        unit.name
                    );
                }
            }
        }
    }
}

/// `cargo fmt` changes no key: the trainer, core and kernels sources reformatted by rustfmt at
/// another width (which re-wraps lines, adds or drops trailing commas, braces around match arms
/// and closure bodies, semicolons after a last `return`, and reorders imports) hash as before.
/// Needs rustfmt, which CI installs and runs anyway (`cargo fmt --check`).
#[test]
fn rustfmt_changes_no_key() {
    let s = Scratch::new("rustfmt");
    let before = s.hashes();
    let mut files = Vec::new();
    for c in ["trainer", "core", "kernels", "markov"] {
        for e in std::fs::read_dir(s.0.join("crates").join(c).join("src")).expect("src").flatten() {
            if e.path().extension().is_some_and(|x| x == "rs") {
                files.push(e.path());
            }
        }
    }
    files.sort();
    for width in ["60", "160"] {
        let out = std::process::Command::new("rustfmt")
            .args(["--edition", "2024", "--config", &format!("max_width={width},use_small_heuristics=Default")])
            .args(&files)
            .output()
            .expect("rustfmt (rustup component add rustfmt) is needed by this test and by CI's `cargo fmt --check`");
        assert!(out.status.success(), "rustfmt failed: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(s.hashes(), before, "rustfmt at width {width} changed a key");
    }
}
