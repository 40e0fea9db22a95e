//! `--from-cache` draws only from sound stored results: with one task's entry truncated it fails
//! naming that task as damaged, and draws nothing.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use attnlab_figures::{FigureError, Mode, Options};

#[test]
fn from_cache_fails_naming_a_damaged_entry() {
    let dir = std::env::temp_dir().join(format!("attnlab-from-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = |from_cache| Options {
        out_dir: dir.join("out"),
        cache_dir: dir.join("cache"),
        mode: Mode::Fast,
        only: vec!["markov.canonical.sgd".into()],
        force: false,
        jobs: 1,
        from_cache,
    };
    attnlab_figures::run(&opts(false)).unwrap();
    attnlab_figures::run(&opts(true)).unwrap();
    let lab = attnlab_lab::Lab::new(dir.join("cache"), false, Mode::Fast);
    let plan = attnlab_lab::registry::plan(&lab, ["markov.canonical.sgd"]).unwrap();
    let path = lab.cache.entry_path_of(&plan[0].key);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() - 10]).unwrap();
    std::fs::remove_file(dir.join("out/markov.canonical.sgd.png")).unwrap();
    match attnlab_figures::run(&opts(true)) {
        Err(FigureError::NotCached { missing, .. }) => {
            assert_eq!(missing.len(), 1);
            assert!(missing[0].contains(&plan[0].key[..12]) && missing[0].contains("damaged entry"), "{missing:?}");
        }
        other => panic!("expected NotCached, got {:?}", other.map(|s| s.ran.len())),
    }
    assert!(!dir.join("out/markov.canonical.sgd.png").exists(), "--from-cache drew from a damaged entry");
    let _ = std::fs::remove_dir_all(&dir);
}
