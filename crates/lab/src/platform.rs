//! Where results are computed: the CPU kernel path and the compiler, recorded in every result
//! record, and the [`Lab`] constructor that stamps them.
//!
//! The compiler's version is also in every cache key ([`crate::code_version`]): one binary has one,
//! on every node of a cluster. The kernel path is not in the key: it is chosen at run time on the
//! machine that runs a task, while the key is computed where the plan is made (a Slurm login node,
//! the drawing job), so keying on it would make a cluster with mixed CPUs never find its own
//! results. The paths agree to about 1e-12 on a training run; a cache filled on mixed CPUs holds
//! records that differ at that level, and each record says which path computed it.

use attnlab_core::{Cache, Platform};

use crate::{Lab, Mode};

/// This process's platform: the attention kernel's code path here and this build's rustc.
pub fn current() -> Platform {
    Platform {
        kernel_path: attnlab_kernels::code_path().to_string(),
        rustc: crate::experiment::rustc_version().to_string(),
    }
}

impl Lab {
    /// A lab over the cache folder `dir` (`force`: recompute everything) at size `mode`, recording
    /// this process's [`current`] platform in every result it computes.
    pub fn new(dir: impl Into<std::path::PathBuf>, force: bool, mode: Mode) -> Self {
        Self { cache: Cache::new(dir, force).with_platform(current()), mode }
    }

    /// The same lab, reading results only: what draws figures never computes (a missing task is an
    /// error naming it).
    pub fn drawing(&self) -> Self {
        Self { cache: self.cache.reading(), mode: self.mode }
    }
}
