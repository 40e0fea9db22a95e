//! paths experiments: checked config → deterministic run(seed) → cached serde result.
//!
//! - [`markov_task`]: spec §5 hidden-Markov-chain task — theory U solved across widths, GP
//!   references, kernel alignment, pre-kernels, head scores and theory-side pruning, and
//!   blocked-Gibbs posterior samples (§6) at a few widths. Ids `paths.markov4` (4 paths, Fig 2c, 2d,
//!   pre-kernels) and `paths.markov2` (2 paths, σ⊥ = 5, Fig 2e).
//! - [`standin`]: the image-free stand-in for Fig 3 (id `paths.fig3.standin`): the in-context
//!   network trained by gradient descent (the candle trainer), then theory, Gibbs samples, head
//!   scores and pruning with its frozen heads.

use attnlab_core::CacheStatus;
use nalgebra::DMatrix;

use crate::Lab;
use crate::LabError;
use crate::task::{Paper, Task};

/// The paper's name: its cache-key code version (`code_version`).
pub const PAPER: &str = "paths";

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

pub mod markov_task;
pub mod standin;

/// The rows of a matrix.
fn rows(m: &DMatrix<f64>) -> Vec<Vec<f64>> {
    (0..m.nrows()).map(|i| m.row(i).iter().copied().collect()).collect()
}

/// A matrix from its rows.
fn mat(r: &[Vec<f64>]) -> DMatrix<f64> {
    DMatrix::from_fn(r.len(), r.first().map_or(0, Vec::len), |i, j| r[i][j])
}

/// ‖U_s − U_t‖_F/‖U_t‖_F of a sampled U_s against the theory's U_t, and its Monte-Carlo SE by the
/// delta method from the SE of every sampled entry.
fn rel_gap(us: &DMatrix<f64>, ut: &DMatrix<f64>, u_se: &[Vec<f64>]) -> (f64, f64) {
    let diff = us - ut;
    let dn = diff.norm();
    let tn = ut.norm();
    let mut se2 = 0.0;
    for i in 0..diff.nrows() {
        for j in 0..diff.ncols() {
            if dn > 0.0 {
                se2 += (diff[(i, j)] / dn).powi(2) * u_se[i][j].powi(2);
            }
        }
    }
    (dn / tn, se2.sqrt() / tn)
}

/// Figure id: accuracy vs width, 4 paths (Fig 2c).
pub const FIG2C_ACCURACY: &str = "paths.fig2c.accuracy";
/// Figure id: the order parameter U, 4 paths (Fig 2c).
pub const FIG2C_ORDER: &str = "paths.fig2c.order";
/// Figure id: kernel–label alignment (Fig 2d).
pub const FIG2D_ALIGNMENT: &str = "paths.fig2d.alignment";
/// Figure id: accuracy and U vs width, 2 paths (Fig 2e).
pub const FIG2E_ACCURACY: &str = "paths.fig2e.accuracy";
/// Figure id: the path pre-kernels.
pub const KERNELS: &str = "paths.kernels";

/// The task of figure `figure` ([`Task`]): its experiment (the 4-path Markov task serves four
/// figures). Cost estimates (seconds for fast, quick and full runs) are the wall times measured
/// with 2 jobs on the 2-core reference machine; a cached result's time replaces them.
fn tasks(lab: &Lab, figure: &str) -> Result<Vec<Task>, LabError> {
    use markov_task::Which;
    let task = match figure {
        FIG2C_ACCURACY | FIG2C_ORDER | FIG2D_ALIGNMENT | KERNELS => Task::new(
            lab,
            PAPER,
            markov_task::id(Which::Four),
            figure,
            &markov_task::config(lab, Which::Four)?,
            markov_task::SEED,
            lab.mode.pick(4.5, 106.0, 446.0),
        )?,
        FIG2E_ACCURACY => Task::new(
            lab,
            PAPER,
            markov_task::id(Which::Two),
            figure,
            &markov_task::config(lab, Which::Two)?,
            markov_task::SEED,
            lab.mode.pick(2.8, 54.0, 242.0),
        )?,
        // The stand-in's cost is its GD training (0.7 s per Adam step at one thread, 80% of a
        // quick run's stand-in), the theory solves and the 8 Gibbs chains at P 600.
        standin::ID => Task::new(
            lab,
            PAPER,
            standin::ID,
            figure,
            &standin::config(lab),
            standin::SEED,
            lab.mode.pick(25.0, 204.0, 4547.0),
        )?,
        _ => return Err(LabError::UnknownExperiment(figure.into())),
    };
    Ok(vec![task])
}

/// Runs a task of this paper (planned by [`tasks`]) into the lab's cache.
fn run_task(lab: &Lab, task: &Task) -> Result<CacheStatus, LabError> {
    use markov_task::Which;
    Ok(match task.experiment.as_str() {
        id if id == markov_task::id(Which::Four) => markov_task::run(lab, Which::Four)?.1,
        id if id == markov_task::id(Which::Two) => markov_task::run(lab, Which::Two)?.1,
        standin::ID => standin::run(lab)?.1,
        other => return Err(LabError::UnknownExperiment(other.into())),
    })
}
