//! What every experiment shares: the run size ([`Mode`]), the place results are cached ([`Lab`]),
//! and the code version that keys the cache.
//!
//! This file is part of every paper's cache key (`build/source_hash.rs`): keep here only what an
//! experiment runs.

use attnlab_core::{Cache, CacheStatus, Miss, ResultRecord};
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
    /// A laptop run (`--quick`, at most 15 minutes on 2 cores): the Markov training figures at
    /// N 256 with 4 seeds per group and fewer groups, 2×2 phase grids; ICAR Fig 7 one seed of 100
    /// epochs, Fig 5 one seed, the η grid at d ∈ {2, 5, 10}; the paths Gibbs chains half as long and
    /// the Fig 3 stand-in with 150 Adam steps, P 200. Each claim states the sizes it ran at; the
    /// rest as in `Full` (README lists every reduction).
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
        E: From<Miss>,
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
        E: From<Miss>,
    {
        self.cache.get_or_compute_each(id, config, seed, &code_version(paper), compute)
    }
}

impl Lab {
    /// The record of experiment `id` of `paper` put together by `compute` from results that are
    /// themselves cached (a Markov training figure from its training runs, each a task): computed
    /// every time, never stored, so that drawing only reads the runs' records (a missing run is an
    /// error naming it). It has no compute time of its own (`wall_time_s` 0; its runs' times are in
    /// their records), and its `platform` is where it was assembled: each run's own record in the
    /// cache names the platform that computed that run.
    pub fn assembled<C, R, E>(
        &self,
        paper: &str,
        id: &str,
        config: &C,
        seed: u64,
        compute: impl FnOnce() -> Result<R, E>,
    ) -> Result<(ResultRecord<C, R>, CacheStatus), E>
    where
        C: Serialize + Clone,
        R: Serialize,
    {
        let result = compute()?;
        let record = ResultRecord {
            id: id.to_string(),
            config: config.clone(),
            seed,
            code_version: code_version(paper),
            wall_time_s: 0.0,
            platform: self.cache.platform().clone(),
            checksum: Some(attnlab_core::record::checksum(&result)),
            rekeyed: None,
            result,
        };
        Ok((record, CacheStatus::Assembled))
    }
}

/// The code version of `paper`'s experiments: the package version, the hash of exactly the code
/// they run (`build/source_hash.rs`) and the compiler's version, recorded in every result and mixed
/// into every cache key: `0.1.0.src-1a2b3c4d.rustc-1.95.0-59807616e`.
pub fn code_version(paper: &str) -> String {
    let hash = hashes::SOURCE_HASHES.iter().find(|(p, _)| *p == paper).map_or("unknown", |(_, h)| &h[..8]);
    format!("{}.src-{hash}.{}", attnlab_core::CODE_VERSION, rustc_tag())
}

/// `rustc-1.95.0-59807616e` from `rustc 1.95.0 (59807616e 2026-04-14)`.
fn rustc_tag() -> String {
    let words: Vec<&str> = hashes::RUSTC.split([' ', '(', ')']).filter(|w| !w.is_empty()).collect();
    match words.as_slice() {
        [_, version, commit, ..] => format!("rustc-{version}-{commit}"),
        [_, version] => format!("rustc-{version}"),
        _ => "rustc-unknown".into(),
    }
}

/// `rustc --version` of the build that computes (recorded in every result's platform).
pub fn rustc_version() -> &'static str {
    hashes::RUSTC
}

/// The papers with experiments, and the hash of the code each runs.
pub fn source_hashes() -> &'static [(&'static str, &'static str)] {
    hashes::SOURCE_HASHES
}
