//! Which source files a paper's experiments run, and their hash: the cache key's code version.
//!
//! Shared by `build.rs` (which bakes the hashes into the crate) and the cache-key test. For paper
//! `P` the inputs are, and are only:
//! - every `.rs` file under `crates/lab/src/P/experiments/` and `crates/lab/src/experiment.rs`
//!   (the run helpers every experiment shares), but never `claims/` or anything in `crates/figures`;
//! - for every workspace crate those files name (`attnlab_x` → `crates/x`), and every workspace crate
//!   that one depends on (its `[dependencies]`, transitively): its `Cargo.toml`, `build.rs` and every
//!   `.rs` file under its `src/`;
//! - of `Cargo.lock`, the entries of the packages those crates and the lab crate itself build on
//!   (a dependency bump can move numbers), found by walking the lock's own dependency lists; a
//!   dependency added or bumped only for the figures (a font library, say) reruns nothing.
//!
//! So editing a caption, a colour or a claim's tolerance reruns no experiment, and editing one
//! paper's experiment or theory reruns only the papers whose experiments run that code.
//!
//! A [`UNITS`] entry keys a unit of work run with many configs (one Markov training run) more
//! narrowly: its own file and the crates it names (with their dependencies) and `Cargo.lock` —
//! not its paper's other experiment files, whose edits (a figure's grid, seeds) cannot move the
//! numbers of a run whose whole config is in its key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The papers: every folder `crates/lab/src/<paper>/` that has an `experiments/` folder, sorted.
pub fn papers(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root.join("crates/lab/src"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("experiments").is_dir())
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Workspace crates (folder names under `crates/`) named as `attnlab_<name>` in `text`.
fn named_crates(root: &Path, text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("attnlab_") {
        let tail = &rest[i + "attnlab_".len()..];
        let name: String = tail.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let dir = name.replace('_', "-");
        if !name.is_empty() && root.join("crates").join(&dir).join("Cargo.toml").is_file() {
            out.insert(dir);
        }
        rest = tail;
    }
    out
}

/// The `attnlab-*` crates listed under `[dependencies]` of `crates/<name>/Cargo.toml`.
fn dependencies(root: &Path, name: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root.join("crates").join(name).join("Cargo.toml")).unwrap_or_default();
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if let Some(dep) = line.strip_prefix("attnlab-").filter(|_| in_deps) {
            let dep: String = dep.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            if root.join("crates").join(&dep).join("Cargo.toml").is_file() {
                out.insert(dep);
            }
        }
    }
    out
}

/// Units keyed on their own: (name, the one file that computes it, relative to the root).
pub const UNITS: &[(&str, &str)] = &[("markov.train.run", "crates/lab/src/markov/experiments/train/run.rs")];

/// Every file the cache key of unit `name` ([`UNITS`]) covers, as paths relative to `root`, sorted.
pub fn unit_inputs(root: &Path, name: &str) -> Vec<String> {
    let files = UNITS.iter().filter(|(n, _)| *n == name).map(|(_, f)| root.join(f)).collect();
    closure(root, files)
}

/// Every file the cache key of `paper` covers, as paths relative to `root`, sorted.
pub fn inputs(root: &Path, paper: &str) -> Vec<String> {
    let mut files = Vec::new();
    rs_files(&root.join("crates/lab/src").join(paper).join("experiments"), &mut files);
    files.push(root.join("crates/lab/src/experiment.rs"));
    closure(root, files)
}

/// `files`, the workspace crates they name and those crates' dependencies (every source file,
/// manifest and build script), and `Cargo.lock`, relative to `root`, sorted.
fn closure(root: &Path, mut files: Vec<PathBuf>) -> Vec<String> {
    let mut todo: Vec<String> = Vec::new();
    for f in &files {
        todo.extend(named_crates(root, &std::fs::read_to_string(f).unwrap_or_default()));
    }
    let mut crates = BTreeSet::new();
    while let Some(c) = todo.pop() {
        if c == "lab" || !crates.insert(c.clone()) {
            continue;
        }
        todo.extend(dependencies(root, &c));
    }
    for c in &crates {
        let dir = root.join("crates").join(c);
        rs_files(&dir.join("src"), &mut files);
        for extra in ["Cargo.toml", "build.rs"] {
            if dir.join(extra).is_file() {
                files.push(dir.join(extra));
            }
        }
    }
    files.push(root.join("Cargo.lock"));
    let mut rel: Vec<String> =
        files.iter().map(|f| f.strip_prefix(root).unwrap_or(f).to_string_lossy().replace('\\', "/")).collect();
    rel.sort();
    rel.dedup();
    rel
}

/// FNV-1a over (relative path, contents) of every input of `paper`: stable across machines and
/// checkouts, as 16 hex digits.
pub fn hash(root: &Path, paper: &str) -> String {
    hash_files(root, &inputs(root, paper))
}

/// The package name a crate's `Cargo.toml` declares (`name = "…"` under `[package]`).
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(v) = line.strip_prefix("name").map(str::trim_start).and_then(|l| l.strip_prefix('=')) {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// One `[[package]]` entry of `Cargo.lock`: name, version, source and checksum (empty for a
/// workspace package), and its dependencies as (name, version if the lock names one).
struct LockEntry {
    name: String,
    version: String,
    source: String,
    checksum: String,
    deps: Vec<(String, Option<String>)>,
}

fn lock_entries(lock: &str) -> Vec<LockEntry> {
    let field = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.trim_start().strip_prefix('=')).map(|v| v.trim().trim_matches('"').to_string()))
            .unwrap_or_default()
    };
    lock.split("[[package]]")
        .skip(1)
        .map(|text| {
            let deps = text
                .split_once("dependencies = [")
                .map(|(_, rest)| rest.split(']').next().unwrap_or_default())
                .unwrap_or_default()
                .split(',')
                .map(|d| d.trim().trim_matches('"'))
                .filter(|d| !d.is_empty())
                .map(|d| {
                    let mut parts = d.split(' ');
                    (parts.next().unwrap_or_default().to_string(), parts.next().map(String::from))
                })
                .collect();
            LockEntry {
                name: field(text, "name"),
                version: field(text, "version"),
                source: field(text, "source"),
                checksum: field(text, "checksum"),
                deps,
            }
        })
        .collect()
}

/// The part of `Cargo.lock` a key covers: the entries of `roots` (workspace package names) and of
/// every package they depend on, transitively, except workspace packages outside `roots`. Written
/// canonically (sorted by name and version, each dependency as `name version`), so that what the
/// lock leaves implicit — it names a dependency's version only once two versions of it are locked —
/// does not change the key when an unrelated package brings in a second version.
pub fn lock_closure(lock: &str, roots: &BTreeSet<String>) -> String {
    let entries = lock_entries(lock);
    let find = |name: &str, version: Option<&String>| -> Vec<usize> {
        (0..entries.len()).filter(|&i| entries[i].name == name && version.is_none_or(|v| *v == entries[i].version)).collect()
    };
    let mut keep = vec![false; entries.len()];
    let mut todo: Vec<usize> = roots.iter().flat_map(|r| find(r, None)).collect();
    while let Some(i) = todo.pop() {
        let e = &entries[i];
        if keep[i] || (e.source.is_empty() && !roots.contains(&e.name)) {
            continue;
        }
        keep[i] = true;
        for (n, v) in &e.deps {
            todo.extend(find(n, v.as_ref()));
        }
    }
    let mut kept: Vec<&LockEntry> = entries.iter().zip(keep).filter(|(_, k)| *k).map(|(e, _)| e).collect();
    kept.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    let mut out = String::new();
    for e in kept {
        let deps: Vec<String> = e
            .deps
            .iter()
            .map(|(n, v)| {
                let version = v.clone().or_else(|| find(n, None).first().map(|&j| entries[j].version.clone())).unwrap_or_default();
                format!("{n} {version}")
            })
            .collect();
        out.push_str(&format!("{} {} {} {}\n  {}\n", e.name, e.version, e.source, e.checksum, deps.join(", ")));
    }
    out
}

/// The hash of [`hash`] over an already listed set of `inputs` (paths relative to `root`). Of
/// `Cargo.lock` it hashes [`lock_closure`] of the workspace crates among the inputs and the lab
/// crate.
pub fn hash_files(root: &Path, inputs: &[String]) -> String {
    let mut roots: BTreeSet<String> = BTreeSet::from(["attnlab-lab".to_string()]);
    for rel in inputs.iter().filter(|r| r.starts_with("crates/") && r.ends_with("/Cargo.toml")) {
        roots.extend(package_name(&std::fs::read_to_string(root.join(rel)).unwrap_or_default()));
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for rel in inputs {
        let bytes = if rel == "Cargo.lock" {
            lock_closure(&std::fs::read_to_string(root.join(rel)).unwrap_or_default(), &roots).into_bytes()
        } else {
            std::fs::read(root.join(rel)).unwrap_or_default()
        };
        for b in rel.bytes().chain([0u8]).chain(bytes) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
