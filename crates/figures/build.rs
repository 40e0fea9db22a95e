//! Build script: hashes, per paper, the source of every crate an experiment's numbers depend on, so
//! that the experiment cache is invalidated by any code change that can move that paper's numbers —
//! and only by those: editing one paper's figures never forces another paper's experiments to rerun.

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

/// FNV-1a over (relative path, contents) of every `.rs` file under `dirs`: stable across machines
/// and checkouts.
fn hash(crates: &Path, dirs: &[&str]) -> u64 {
    let mut files = Vec::new();
    for d in dirs {
        collect(&crates.join(d), &mut files);
    }
    files.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in &files {
        let rel = f.strip_prefix(crates).unwrap_or(f).to_string_lossy().replace('\\', "/");
        for b in rel.bytes().chain(std::fs::read(f).unwrap_or_default()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let crates = here.parent().map(Path::to_path_buf).unwrap_or_else(|| here.clone());
    // (env suffix, source folders relative to crates/) — the shared crates every experiment uses,
    // the paper's own crates, and the paper's folder of figure code (where its experiments live).
    let papers: [(&str, &[&str]); 4] = [
        ("MARKOV", &["core/src", "kernels/src", "markov/src", "trainer/src", "figures/src/markov"]),
        ("ICAR", &["core/src", "kernels/src", "icar/src", "figures/src/icar"]),
        ("PATHS", &["core/src", "kernels/src", "paths/src", "trainer/src", "figures/src/paths"]),
        ("EXCHANGEABLE", &["core/src", "exchangeable/src", "figures/src/exchangeable"]),
    ];
    for c in ["core", "kernels", "markov", "trainer", "icar", "paths", "exchangeable", "figures"] {
        let src = crates.join(c).join("src");
        if src.exists() {
            println!("cargo:rerun-if-changed={}", src.display());
        }
    }
    println!("cargo:rerun-if-changed={}", crates.display());
    for (name, dirs) in papers {
        println!("cargo:rustc-env=ATTNLAB_SOURCE_HASH_{name}={:016x}", hash(&crates, dirs));
    }
}
