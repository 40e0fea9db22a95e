//! Build facts every `attnlab` result records: the git commit it was built from (when built from a
//! checkout) and a SHA-256 of the Cargo.lock it was built with.

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let lock = root.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let lock_hash = std::fs::read(&lock).map(|b| format!("{:x}", Sha256::digest(&b))).unwrap_or_default();
    println!("cargo:rustc-env=ATTNLAB_CARGO_LOCK_SHA256={lock_hash}");
    // The commit: re-run when HEAD or the branch it points to moves.
    for f in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        let p = root.join(f);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=ATTNLAB_GIT_COMMIT={commit}");
}
