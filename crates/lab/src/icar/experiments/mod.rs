//! icar experiments (Sander et al., spec `icar.md`): checked config → deterministic run(seed) →
//! cached serde result. The modules follow the spec's sections and the figure ids:
//! - `diagonal`: the diagonal multi-head model's exact loss minimised (§2c, §3b; Fig 3 and the loss
//!   floors against H);
//! - `augmented`: the trained augmented-token transformer (§2a, §3a; Fig 5) and the trained
//!   theoretical heads on the (d, T) grid of η*;
//! - `nonaugmented`: the trained non-augmented softmax-PE model (§2b; Fig 7);
//! - `pe_only`: the PE-only model under early-stopped GD (§2d, §3c; Fig 6);
//! - `tokens`: AR(1) fits on windows of synthetic embeddings (the stand-in for Fig 4).

pub mod augmented;
pub mod diagonal;
pub mod nonaugmented;
pub mod pe_only;
pub mod tokens;

use attnlab_core::CacheStatus;

use crate::Lab;
use crate::LabError;
use crate::task::{Paper, Task};

/// The paper's name: its cache-key code version (`code_version`) and every claim's paper.
pub const PAPER: &str = "icar";

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

/// The task of figure `figure` ([`Task`]): its experiment. Cost estimates (seconds for fast, quick
/// and full runs) are the wall times measured with 2 jobs on the 2-core reference machine; a
/// cached result's time replaces them.
fn tasks(lab: &Lab, figure: &str) -> Result<Vec<Task>, LabError> {
    use diagonal::Case;
    let task = match figure {
        diagonal::UNITARY_ID => Task::new(
            lab,
            PAPER,
            figure,
            figure,
            &diagonal::config(Case::Unitary)?,
            diagonal::SEED,
            lab.mode.pick(0.01, 0.1, 0.1),
        )?,
        diagonal::ORTHOGONAL_ID => Task::new(
            lab,
            PAPER,
            figure,
            figure,
            &diagonal::config(Case::Orthogonal)?,
            diagonal::SEED,
            lab.mode.pick(0.3, 2.0, 2.0),
        )?,
        diagonal::FLOORS_ID => Task::new(
            lab,
            PAPER,
            figure,
            figure,
            &diagonal::floors_config(lab)?,
            diagonal::FLOORS_SEED,
            lab.mode.pick(3.0, 31.0, 31.0),
        )?,
        augmented::ID => {
            let cfg = augmented::config(lab);
            Task::new(lab, PAPER, figure, figure, &cfg, cfg.train.seed, lab.mode.pick(9.0, 103.0, 604.0))?
        }
        augmented::ETA_ID => Task::new(
            lab,
            PAPER,
            figure,
            figure,
            &augmented::eta_config(lab)?,
            augmented::ETA_SEED,
            lab.mode.pick(16.0, 90.0, 230.0),
        )?,
        nonaugmented::ID => {
            let cfg = nonaugmented::config(lab);
            Task::new(lab, PAPER, figure, figure, &cfg, cfg.train.seed, lab.mode.pick(37.0, 232.0, 1975.0))?
        }
        pe_only::ID => {
            Task::new(lab, PAPER, figure, figure, &pe_only::config()?, pe_only::SEED, lab.mode.pick(0.05, 0.5, 0.5))?
        }
        tokens::ID => {
            Task::new(lab, PAPER, figure, figure, &tokens::config(lab), tokens::SEED, lab.mode.pick(0.04, 0.4, 0.4))?
        }
        _ => return Err(LabError::UnknownExperiment(figure.into())),
    };
    Ok(vec![task])
}

/// Runs a task of this paper (planned by [`tasks`]) into the lab's cache.
fn run_task(lab: &Lab, task: &Task) -> Result<CacheStatus, LabError> {
    use diagonal::Case;
    Ok(match task.experiment.as_str() {
        diagonal::UNITARY_ID => diagonal::run(lab, Case::Unitary)?.1,
        diagonal::ORTHOGONAL_ID => diagonal::run(lab, Case::Orthogonal)?.1,
        diagonal::FLOORS_ID => diagonal::run_floors(lab)?.1,
        augmented::ID => augmented::run(lab)?.1,
        augmented::ETA_ID => augmented::run_eta(lab)?.1,
        nonaugmented::ID => nonaugmented::run(lab)?.1,
        pe_only::ID => pe_only::run(lab)?.1,
        tokens::ID => tokens::run(lab)?.1,
        other => return Err(LabError::UnknownExperiment(other.into())),
    })
}
