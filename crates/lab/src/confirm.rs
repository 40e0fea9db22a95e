//! Confirmation runs: the experiments behind claims whose rule was set or changed after results
//! (`after-results` in the ledger), rerun with a seed block never used before ([`seed`]), so the
//! frozen rule is judged on data nobody had seen when it was written. They are extra tasks of
//! their figures (planned and run through the registry, cached like any task) and change nothing
//! of the experiments themselves: the same config and code, another seed.
//!
//! Figures and experiments with a confirmation run: `exchangeable.f3.cme` (E3), `exchangeable.f4.erm`
//! (E4), `icar.augmented.trained` (Fig 5), `icar.nonaugmented` (Fig 7), the four figures of the
//! paths 4-path Markov task, Fig 2e (the 2-path task) and `paths.fig3.standin`. The Markov training claims need none here:
//! their runs moved to fresh seed blocks themselves (their ledger entries say which).

use attnlab_core::{CacheStatus, ResultRecord};

use crate::task::Task;
use crate::{Lab, LabError};

/// Added to an experiment's own seed to make its confirmation seed: no seed of attnlab's
/// experiments reaches it (the largest, the Markov phase grid's block, ends below 22,000).
pub const OFFSET: u64 = 1_000_000;

/// The confirmation seed of an experiment whose own seed is `seed`.
pub const fn seed(seed: u64) -> u64 {
    OFFSET + seed
}

/// Whether a task is a confirmation run.
pub fn is_confirmation(task: &Task) -> bool {
    task.seed >= OFFSET
}

/// E3 on fresh seeds.
pub fn e3(
    lab: &Lab,
) -> Result<
    (
        ResultRecord<crate::exchangeable::experiments::e3::E3Config, crate::exchangeable::experiments::e3::E3Result>,
        CacheStatus,
    ),
    LabError,
> {
    use crate::exchangeable::experiments::{PAPER, e3};
    let (cfg, s) = (e3::config(lab.mode), seed(e3::SEED));
    lab.cached(PAPER, e3::ID, &cfg, s, || e3::compute(&cfg, s).map_err(LabError::from))
}

/// E4 on fresh seeds.
pub fn e4(
    lab: &Lab,
) -> Result<
    (
        ResultRecord<crate::exchangeable::experiments::e4::E4Config, crate::exchangeable::experiments::e4::E4Result>,
        CacheStatus,
    ),
    LabError,
> {
    use crate::exchangeable::experiments::{PAPER, e4};
    let (cfg, s) = (e4::config(lab.mode), seed(e4::SEED));
    lab.cached(PAPER, e4::ID, &cfg, s, || e4::compute(&cfg, s).map_err(LabError::from))
}

/// ICAR Fig 5's config with every training seed moved to its confirmation seed (the record's seed
/// is the first), as the runner and its task both use it.
fn icar_augmented_config(lab: &Lab) -> crate::icar::experiments::augmented::Config {
    let mut cfg = crate::icar::experiments::augmented::config(lab);
    cfg.seeds = cfg.seeds.iter().map(|&s| seed(s)).collect();
    cfg.train.seed = cfg.seeds[0];
    cfg
}

/// ICAR Fig 7's config with fresh training seeds (see [`icar_augmented_config`]).
fn icar_nonaugmented_config(lab: &Lab) -> crate::icar::experiments::nonaugmented::Config {
    let mut cfg = crate::icar::experiments::nonaugmented::config(lab);
    cfg.seeds = cfg.seeds.iter().map(|&s| seed(s)).collect();
    cfg.train.seed = cfg.seeds[0];
    cfg
}

/// ICAR Fig 5 (augmented, trained) with fresh training seeds.
pub fn icar_augmented(
    lab: &Lab,
) -> Result<
    (ResultRecord<crate::icar::experiments::augmented::Config, crate::icar::experiments::augmented::Data>, CacheStatus),
    LabError,
> {
    use crate::icar::experiments::{PAPER, augmented};
    let cfg = icar_augmented_config(lab);
    lab.cached(PAPER, augmented::ID, &cfg, cfg.train.seed, || Ok::<_, LabError>(augmented::compute(&cfg)))
}

/// ICAR Fig 7 (non-augmented) with fresh training seeds.
pub fn icar_nonaugmented(
    lab: &Lab,
) -> Result<
    (
        ResultRecord<crate::icar::experiments::nonaugmented::Config, crate::icar::experiments::nonaugmented::Data>,
        CacheStatus,
    ),
    LabError,
> {
    use crate::icar::experiments::{PAPER, nonaugmented};
    let cfg = icar_nonaugmented_config(lab);
    lab.cached(PAPER, nonaugmented::ID, &cfg, cfg.train.seed, || Ok::<_, LabError>(nonaugmented::compute(&cfg)))
}

/// The paths 4-path Markov task on fresh seeds (data, Gibbs chains).
pub fn paths_markov4(
    lab: &Lab,
) -> Result<
    (
        ResultRecord<crate::paths::experiments::markov_task::Config, crate::paths::experiments::markov_task::Data>,
        CacheStatus,
    ),
    LabError,
> {
    use crate::paths::experiments::markov_task::{self, Which};
    let (cfg, s) = (markov_task::config(lab, Which::Four)?, seed(markov_task::SEED));
    lab.cached(crate::paths::experiments::PAPER, markov_task::id(Which::Four), &cfg, s, || {
        markov_task::compute(&cfg, s)
    })
}

/// The paths 2-path Markov task (Fig 2e) on fresh seeds.
pub fn paths_markov2(
    lab: &Lab,
) -> Result<
    (
        ResultRecord<crate::paths::experiments::markov_task::Config, crate::paths::experiments::markov_task::Data>,
        CacheStatus,
    ),
    LabError,
> {
    use crate::paths::experiments::markov_task::{self, Which};
    let (cfg, s) = (markov_task::config(lab, Which::Two)?, seed(markov_task::SEED));
    lab.cached(crate::paths::experiments::PAPER, markov_task::id(Which::Two), &cfg, s, || markov_task::compute(&cfg, s))
}

/// The paths Fig 3 stand-in on fresh seeds.
pub fn paths_standin(
    lab: &Lab,
) -> Result<
    (ResultRecord<crate::paths::experiments::standin::Config, crate::paths::experiments::standin::Data>, CacheStatus),
    LabError,
> {
    use crate::paths::experiments::standin;
    let (cfg, s) = (standin::config(lab), seed(standin::SEED));
    lab.cached(crate::paths::experiments::PAPER, standin::ID, &cfg, s, || standin::compute(&cfg, s))
}

/// The confirmation task of figure `figure`, if it has one (its paper's own tasks come first).
pub fn tasks(lab: &Lab, figure: &str) -> Result<Vec<Task>, LabError> {
    use crate::paths::experiments::markov_task::{self, Which};
    use crate::{exchangeable::experiments as ex, icar::experiments as ic, paths::experiments as pa};
    // Cost: the main run's (a cached result's own time replaces it).
    let task = match figure {
        ex::e3::ID => {
            Task::new(lab, ex::PAPER, ex::e3::ID, figure, &ex::e3::config(lab.mode), seed(ex::e3::SEED), 60.0)?
        }
        ex::e4::ID => {
            Task::new(lab, ex::PAPER, ex::e4::ID, figure, &ex::e4::config(lab.mode), seed(ex::e4::SEED), 75.0)?
        }
        ic::augmented::ID => {
            let cfg = icar_augmented_config(lab);
            Task::new(lab, ic::PAPER, ic::augmented::ID, figure, &cfg, cfg.train.seed, 270.0)?
        }
        ic::nonaugmented::ID => {
            let cfg = icar_nonaugmented_config(lab);
            Task::new(lab, ic::PAPER, ic::nonaugmented::ID, figure, &cfg, cfg.train.seed, 1230.0)?
        }
        pa::FIG2C_ACCURACY | pa::FIG2C_ORDER | pa::FIG2D_ALIGNMENT | pa::KERNELS => Task::new(
            lab,
            pa::PAPER,
            markov_task::id(Which::Four),
            figure,
            &markov_task::config(lab, Which::Four)?,
            seed(markov_task::SEED),
            310.0,
        )?,
        pa::FIG2E_ACCURACY => Task::new(
            lab,
            pa::PAPER,
            markov_task::id(Which::Two),
            figure,
            &markov_task::config(lab, Which::Two)?,
            seed(markov_task::SEED),
            130.0,
        )?,
        pa::standin::ID => Task::new(
            lab,
            pa::PAPER,
            pa::standin::ID,
            figure,
            &pa::standin::config(lab),
            seed(pa::standin::SEED),
            4550.0,
        )?,
        _ => return Ok(Vec::new()),
    };
    Ok(vec![task])
}

/// Runs a confirmation task (one [`tasks`] planned) into the lab's cache.
pub fn run_task(lab: &Lab, task: &Task) -> Result<CacheStatus, LabError> {
    use crate::{exchangeable::experiments as ex, icar::experiments as ic, paths::experiments as pa};
    Ok(match task.experiment.as_str() {
        ex::e3::ID => e3(lab)?.1,
        ex::e4::ID => e4(lab)?.1,
        ic::augmented::ID => icar_augmented(lab)?.1,
        ic::nonaugmented::ID => icar_nonaugmented(lab)?.1,
        "paths.markov4" => paths_markov4(lab)?.1,
        "paths.markov2" => paths_markov2(lab)?.1,
        pa::standin::ID => paths_standin(lab)?.1,
        other => return Err(LabError::UnknownExperiment(format!("{other} (confirmation run)"))),
    })
}
