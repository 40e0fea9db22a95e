//! What every experiment shares: the run size ([`Mode`]), the place results are cached ([`Lab`]),
//! and the code version that keys the cache.
//!
//! This file is part of every paper's cache key (`build/source_hash.rs`): keep here only what an
//! experiment runs.

use attnlab_core::{Cache, CacheStatus, ResultRecord};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

mod hashes {
    include!(concat!(env!("OUT_DIR"), "/source_hashes.rs"));
}

/// How big the experiments are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every experiment at the paper's size (the default of `cargo xtask figures`).
    Full,
    /// A laptop run (`--quick`): the Markov training figures at reduced sizes (never below N 256
    /// for a dynamics claim) and ICAR Figs 5/7 with one seed, each claim stating the sizes it ran
    /// at; everything else as in `Full`.
    Quick,
    /// Fewer grid points / replicates, same code (the smoke run).
    Fast,
}

impl Mode {
    /// One of three values by mode.
    pub fn pick<T>(self, fast: T, quick: T, full: T) -> T {
        match self {
            Mode::Fast => fast,
            Mode::Quick => quick,
            Mode::Full => full,
        }
    }

    /// The mode's name: `full`, `quick` or `fast`.
    pub fn name(self) -> &'static str {
        self.pick("fast", "quick", "full")
    }
}

/// Where experiments run: the cache and the size.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Experiment cache.
    pub cache: Cache,
    /// Full, quick or fast.
    pub mode: Mode,
}

impl Lab {
    /// True in fast mode.
    pub fn fast(&self) -> bool {
        self.mode == Mode::Fast
    }

    /// The record of experiment `id` of `paper` run with `config` and `seed`: read from the cache
    /// when the config, the seed and the code the experiment runs are unchanged, else computed by
    /// `compute`, timed and stored. The status says which, and why.
    pub fn cached<C, R, E>(
        &self,
        paper: &str,
        id: &str,
        config: &C,
        seed: u64,
        compute: impl FnOnce() -> Result<R, E>,
    ) -> Result<(ResultRecord<C, R>, CacheStatus), E>
    where
        C: Serialize + DeserializeOwned + Clone,
        R: Serialize + DeserializeOwned,
    {
        self.cache.get_or_compute(id, config, seed, &code_version(paper), compute)
    }

    /// [`cached`](Self::cached) for an experiment run with many configs (one training run of a
    /// grid): no "last key" index, so a miss does not compare with an unrelated run.
    pub fn cached_each<C, R, E>(
        &self,
        paper: &str,
        id: &str,
        config: &C,
        seed: u64,
        compute: impl FnOnce() -> Result<R, E>,
    ) -> Result<(ResultRecord<C, R>, CacheStatus), E>
    where
        C: Serialize + DeserializeOwned + Clone,
        R: Serialize + DeserializeOwned,
    {
        self.cache.get_or_compute_each(id, config, seed, &code_version(paper), compute)
    }
}

/// The code version of `paper`'s experiments: the package version and the hash of exactly the code
/// they run (`build/source_hash.rs`), recorded in every result and mixed into every cache key.
pub fn code_version(paper: &str) -> String {
    let hash = hashes::SOURCE_HASHES.iter().find(|(p, _)| *p == paper).map_or("unknown", |(_, h)| &h[..8]);
    format!("{}.src-{hash}", attnlab_core::code_version(1))
}

/// The papers with experiments, and the hash of the code each runs.
pub fn source_hashes() -> &'static [(&'static str, &'static str)] {
    hashes::SOURCE_HASHES
}
