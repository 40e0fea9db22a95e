//! Build script: bakes, per paper, the hash of exactly the code its experiments run (see
//! `build/source_hash.rs`) into the crate, so the experiment cache is invalidated by any change that
//! can move that paper's numbers and by nothing else.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "build/source_hash.rs"]
mod source_hash;

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let root = here.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| here.clone());
    println!("cargo:rerun-if-changed={}", root.join("crates").display());
    println!("cargo:rerun-if-changed={}", root.join("Cargo.lock").display());
    let mut code = String::from(
        "/// (paper or unit, hash of the code its experiments run), from `build/source_hash.rs`.\npub(crate) const SOURCE_HASHES: &[(&str, &str)] = &[\n",
    );
    let papers = source_hash::papers(&root).into_iter().map(|p| (source_hash::inputs(&root, &p), p));
    let units = source_hash::UNITS.iter().map(|u| (source_hash::unit_inputs(&root, u.name), u.name.to_string()));
    for (inputs, paper) in papers.chain(units) {
        let _ = writeln!(code, "    ({paper:?}, {:?}),", source_hash::hash_files(&root, &inputs));
        // Each hashed file by name too: a directory's scan alone missed a Cargo.toml edit once
        // (the cache_key test caught the stale key).
        for rel in inputs {
            println!("cargo:rerun-if-changed={}", root.join(rel).display());
        }
    }
    // Dependency edges come from every crate's manifest.
    if let Ok(dirs) = std::fs::read_dir(root.join("crates")) {
        for d in dirs.flatten() {
            let manifest = d.path().join("Cargo.toml");
            if manifest.is_file() {
                println!("cargo:rerun-if-changed={}", manifest.display());
            }
        }
    }
    code.push_str("];\n");
    // The compiler: its version keys every result (another rustc may round differently).
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let _ = writeln!(code, "/// `rustc --version` of this build.\npub(crate) const RUSTC: &str = {version:?};");
    println!("cargo:rerun-if-env-changed=RUSTC");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    if let Err(e) = std::fs::write(out.join("source_hashes.rs"), code) {
        panic!("cannot write source_hashes.rs: {e}");
    }
}
