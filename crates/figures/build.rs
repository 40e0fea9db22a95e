//! Build script: hashes the source of every crate an experiment's numbers depend on, so that the
//! experiment cache is invalidated by any code change (not only by a manual revision bump).

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let crates = here.parent().map(Path::to_path_buf).unwrap_or_else(|| here.clone());
    let mut files = Vec::new();
    for c in ["core", "markov", "comparator", "trainer", "figures"] {
        let src = crates.join(c).join("src");
        println!("cargo:rerun-if-changed={}", src.display());
        collect(&src, &mut files);
    }
    files.sort();
    // FNV-1a over (relative path, contents): stable across machines and checkouts.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in &files {
        let rel = f.strip_prefix(&crates).unwrap_or(f).to_string_lossy().replace('\\', "/");
        for b in rel.bytes().chain(std::fs::read(f).unwrap_or_default()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=ATTNLAB_SOURCE_HASH={h:016x}");
}
