//! The lab's layout stays as README says: the papers are listed in one registry, the modules
//! import each other without a circle (the scheduler names no paper), and README's "Adding a
//! paper" names every shared file that lists the papers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "../build/source_hash.rs"]
mod source_hash;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with("target") && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                files(&p, out);
            }
        } else {
            out.push(p);
        }
    }
}

#[test]
fn the_registry_lists_every_paper_once() {
    let names: Vec<&str> = attnlab_lab::registry::PAPERS.iter().map(|p| p.name()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "a paper is listed twice: {names:?}");
    assert_eq!(sorted, source_hash::papers(&workspace()), "the registry and the folders with experiments differ");
}

/// Edges between the lab's top-level modules (`task`, `registry`, `markov`, …): a file under
/// module A naming `crate::B` is an edge A → B. There must be no cycle.
#[test]
fn the_lab_modules_import_no_circle() {
    let src = workspace().join("crates/lab/src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let module = |p: &Path| -> String {
        let rel = p.strip_prefix(&src).expect("under src");
        let first = rel.components().next().map(|c| c.as_os_str().to_string_lossy().to_string()).unwrap_or_default();
        first.trim_end_matches(".rs").to_string()
    };
    let modules: BTreeSet<String> = all.iter().map(|p| module(p)).filter(|m| m != "lib").collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in all.iter().filter(|p| p.extension().is_some_and(|x| x == "rs")) {
        let from = module(p);
        if from == "lib" {
            continue;
        }
        let text = source_hash::canonical("x.rs", &std::fs::read_to_string(p).expect("read"));
        for (i, _) in text.match_indices("crate ::") {
            let name: String = text[i + "crate ::".len()..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if modules.contains(&name) && name != from {
                edges.entry(from.clone()).or_default().insert(name);
            }
        }
    }
    let papers = source_hash::papers(&workspace());
    for p in &papers {
        assert!(
            !edges.get("task").is_some_and(|e| e.contains(p)),
            "task.rs names the paper {p}: the scheduler must name none"
        );
    }
    // Depth-first search for a cycle.
    fn visit(n: &str, edges: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) {
        if let Some(at) = path.iter().position(|m| m == n) {
            panic!("import circle in crates/lab: {} → {n}", path[at..].join(" → "));
        }
        if !done.insert(n.to_string()) {
            return;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in &modules {
        visit(m, &edges, &mut Vec::new(), &mut done);
    }
}

/// Every shared file (outside a paper's own folders) that names all the papers as words is an
/// edit a new paper needs: README's "Adding a paper" must name it, and every file it names must
/// still list the papers.
#[test]
fn adding_a_paper_lists_every_shared_edit() {
    let root = workspace();
    let papers = source_hash::papers(&root);
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let section = readme.split("### Adding a paper").nth(1).expect("README has an Adding a paper section");
    // Its list: the bullet items and the "Optional:" paragraph, up to the next heading.
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut list = String::new();
    let mut started = false;
    for para in section.split("\n\n").map(|p| p.trim_start_matches('\n')) {
        if para.starts_with("- ") || para.starts_with("Optional:") {
            started = true;
            list.push_str(para);
        } else if started {
            break;
        }
    }
    let named: BTreeSet<String> = list
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.contains('<') && !w.ends_with('/') && (w.contains('/') || w.ends_with(".toml")))
        .map(str::to_string)
        .collect();
    assert!(named.len() >= 5, "README's 'Adding a paper' list names only {named:?}: has its format changed?");
    let mut all = Vec::new();
    for top in ["crates", "xtask", "tests", ".ci"] {
        files(&root.join(top), &mut all);
    }
    all.push(root.join("Cargo.toml"));
    let own = |rel: &str| {
        papers.iter().any(|p| {
            rel.starts_with(&format!("crates/{p}/"))
                || rel.contains(&format!("/src/{p}/"))
                || rel.ends_with(&format!("/src/{p}.rs"))
        })
    };
    let words = |text: &str| -> BTreeSet<String> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_')).map(str::to_string).collect()
    };
    let mut sites = BTreeSet::new();
    for p in &all {
        let rel = p.strip_prefix(&root).expect("in the workspace").to_string_lossy().replace('\\', "/");
        let Ok(text) = std::fs::read_to_string(p) else { continue };
        // Tests of a specific paper's behaviour name papers on purpose; the layout tests name them all.
        if own(&rel) || rel.ends_with("tests/cache_key.rs") || rel.ends_with("tests/layout.rs") {
            continue;
        }
        let w = words(&text);
        if papers.iter().all(|p| w.contains(p)) {
            sites.insert(rel);
        }
    }
    let unnamed: Vec<&String> = sites.iter().filter(|s| !named.contains(*s)).collect();
    assert!(
        unnamed.is_empty(),
        "these shared files list every paper but README's 'Adding a paper' does not name them: {unnamed:?}"
    );
    for n in &named {
        assert!(root.join(n).is_file(), "README's 'Adding a paper' names {n}, which does not exist");
        assert!(sites.contains(n), "README's 'Adding a paper' names {n}, which does not list the papers (stale?)");
    }
}
