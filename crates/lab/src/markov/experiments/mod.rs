//! markov experiments: checked config → deterministic run(seed) → cached serde result. The modules
//! follow the figure ids: `canonical` (the (e, w, b) model, spec §2c/§3), `chain` (H* and U of the
//! chain, §1/§3/§6) and `train` (trained transformers, §4/§5).

pub mod canonical;
pub mod chain;
pub mod train;

use attnlab_core::CacheStatus;
use attnlab_markov::BinaryChain;

use crate::Lab;
use crate::LabError;
use crate::task::{Paper, TRAIN_RUN, Task};

/// The paper's name: its cache-key code version (`code_version`) and every claim's paper.
pub const PAPER: &str = "markov";

/// This paper's experiments as the registry lists them (`crate::registry::PAPERS`).
pub struct Experiments;

impl Paper for Experiments {
    fn name(&self) -> &'static str {
        PAPER
    }

    fn tasks(&self, lab: &Lab, figure: &str) -> Result<Vec<Task>, LabError> {
        tasks(lab, figure)
    }

    fn run_task(&self, lab: &Lab, task: &Task) -> Result<CacheStatus, LabError> {
        run_task(lab, task)
    }
}

/// A checked chain from literal (p, q).
pub fn chain(p: f64, q: f64) -> Result<BinaryChain, LabError> {
    Ok(BinaryChain::new(p, q)?)
}

/// The tasks of figure `figure` ([`Task`]): one per training run for the training figures, the
/// experiment itself for the others. Cost estimates (single-thread seconds at full size) are from
/// the last full run on 2 cores, doubled; a cached result's own time replaces them.
fn tasks(lab: &Lab, figure: &str) -> Result<Vec<Task>, LabError> {
    use canonical::{basin, landscape, sgd};
    use train::{attention, curves, phase, sweep};
    let est = |full_s: f64| if lab.fast() { full_s / 10.0 } else { full_s };
    Ok(match figure {
        landscape::ID => {
            vec![Task::new(lab, PAPER, landscape::ID, figure, &landscape::config(lab)?, landscape::SEED, est(0.1))?]
        }
        basin::ID => vec![Task::new(lab, PAPER, basin::ID, figure, &basin::config(lab)?, basin::SEED, est(0.8))?],
        chain::ID => vec![Task::new(lab, PAPER, chain::ID, figure, &chain::config(lab)?, chain::SEED, est(0.1))?],
        sgd::ID => vec![Task::new(lab, PAPER, sgd::ID, figure, &sgd::config()?, sgd::SEED, est(0.1))?],
        phase::ID => train::run_tasks(lab, figure, &phase::runs(&phase::config(lab)?, phase::SEED)?)?,
        sweep::ID => train::run_tasks(lab, figure, &sweep::runs(&sweep::config(lab)?, sweep::SEED)?)?,
        attention::ID => train::run_tasks(lab, figure, &attention::config(lab)?.runs)?,
        id if curves::IDS.contains(&id) => train::run_tasks(lab, figure, &curves::runs(&curves::config(lab, id)?))?,
        _ => return Err(LabError::UnknownExperiment(figure.into())),
    })
}

/// Runs a task of this paper (planned by [`tasks`]) into the lab's cache.
fn run_task(lab: &Lab, task: &Task) -> Result<CacheStatus, LabError> {
    use canonical::{basin, landscape, sgd};
    Ok(match task.experiment.as_str() {
        TRAIN_RUN => train::train_one(lab, &serde_json::from_value(task.config.clone())?)?.1,
        landscape::ID => landscape::run(lab)?.1,
        basin::ID => basin::run(lab)?.1,
        chain::ID => chain::run(lab)?.1,
        sgd::ID => sgd::run(lab)?.1,
        other => return Err(LabError::UnknownExperiment(other.into())),
    })
}
