//! attnlab lab: for each paper, its experiments and its claims — the one place both live.
//!
//! - `<paper>::experiments`: a checked config → a deterministic run(seed) → a serde result, cached
//!   by content hash ([`Lab::cached`]); the module names follow the spec's sections.
//! - `<paper>::claims`: a result → judgements through the comparator, each claim id written out in
//!   full, with its tolerance and source next to it.
//!
//! The figures crate and the CLI call these; neither computes a result or a judgement of its own.
//! Data flows one way: config → theory | experiment → claims → figures (`shared/design.md`).

pub mod confirm;
pub mod exchangeable;
pub mod experiment;
pub mod icar;
pub mod ledger;
pub mod markov;
pub mod paths;
pub mod platform;
pub mod progress;
pub mod registry;
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
    /// Reading or writing a file (a tasks file, a script, a cache log) failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line of a tasks file is not a task.
    #[error("{} line {line}: not a task ({reason})", path.display())]
    NotATask {
        /// The tasks file.
        path: std::path::PathBuf,
        /// Its line (from 1).
        line: usize,
        /// The parser's message.
        reason: String,
    },
    /// `--index` is past the end of a tasks file.
    #[error("invalid `index` = {index}: {} has {count} task(s) (indices 0..{count})", path.display())]
    TaskIndex {
        /// The index asked for.
        index: usize,
        /// The tasks file.
        path: std::path::PathBuf,
        /// How many tasks it has.
        count: usize,
    },
    /// A task planned by another build of attnlab (another code version, so another key).
    #[error("task {task} was planned by attnlab {planned} but this is {here}: plan again with this build")]
    OtherBuild {
        /// The task's name.
        task: String,
        /// The code version it was planned with.
        planned: String,
        /// This build's.
        here: String,
    },
    /// A task ran but its result is not under its planned key (plan and experiment disagree).
    #[error("task {task} ran but stored no result under its planned key (plan and experiment disagree)")]
    NotStored {
        /// The task's name.
        task: String,
    },
    /// Task `index` of a tasks file failed.
    #[error("task {index} ({task}) failed: {source}")]
    TaskFailed {
        /// Its index in the tasks file.
        index: usize,
        /// Its name.
        task: String,
        /// Why.
        source: Box<LabError>,
    },
    /// A Slurm submission with nothing in it.
    #[error("nothing to submit: the plan has no tasks")]
    EmptyPlan,
    /// `cargo xtask rekey` would carry a record to a key other than its task's (a bug).
    #[error("rekey: the carried record of {task} would not sit under its planned key")]
    RekeyMismatch {
        /// The task's name.
        task: String,
    },
    /// Drawing needed a result the cache does not hold (or holds damaged): the task to run first.
    #[error("not in the cache: {0} (run its task first; drawing never computes)")]
    NotCached(#[from] attnlab_core::Miss),
    /// No experiment (or paper) has this id.
    #[error("no experiment has id `{0}`")]
    UnknownExperiment(String),
}

impl LabError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }
}
