//! attnlab lab: for each paper, its experiments and its claims — the one place both live.
//!
//! - `<paper>::experiments`: a checked config → a deterministic run(seed) → a serde result, cached
//!   by content hash ([`Lab::cached`]); the module names follow the spec's sections.
//! - `<paper>::claims`: a result → judgements through the comparator, each claim id written out in
//!   full, with its tolerance and source next to it.
//!
//! The figures crate and the CLI call these; neither computes a result or a judgement of its own.
//! Data flows one way: config → theory | experiment → claims → figures (`shared/design.md`).

pub mod exchangeable;
pub mod experiment;
pub mod icar;
pub mod markov;
pub mod paths;
pub mod platform;
pub mod progress;
pub mod rekey;
pub mod slurm;
pub mod task;

pub use experiment::{Lab, Mode, code_version};

/// Why an experiment could not run. Every paper's error converts into it.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A config was rejected (names the field).
    #[error(transparent)]
    Config(#[from] attnlab_core::ConfigError),
    /// Training a candle model failed (a tensor error) or its config was rejected.
    #[error("training failed: {0}")]
    Train(#[from] attnlab_trainer::TrainError),
    /// An ICAR experiment failed.
    #[error(transparent)]
    Icar(#[from] attnlab_icar::IcarError),
    /// An attention-paths experiment failed (a config naming its field, or a non-positive-definite kernel).
    #[error(transparent)]
    Paths(#[from] attnlab_paths::PathsError),
    /// An exchangeability experiment failed (a config naming its field, or a singular system).
    #[error(transparent)]
    Exchangeable(#[from] attnlab_exchangeable::ExchError),
    /// A result could not be (de)serialised.
    #[error("serialisation: {0}")]
    Json(#[from] serde_json::Error),
    /// A task could not be read, was planned by another build, or failed (the message names it).
    #[error("{0}")]
    Task(String),
    /// Drawing needed a result the cache does not hold (or holds damaged): the task to run first.
    #[error("not in the cache: {0} (run its task first; drawing never computes)")]
    NotCached(#[from] attnlab_core::Miss),
    /// No experiment has this id.
    #[error("no experiment has id `{0}`")]
    UnknownExperiment(String),
}
