//! exchangeable experiments: E1–E5 of spec `exchangeable.md` §3, with their negative controls, each
//! a checked config → a deterministic run(seed) → a serde result, cached by [`Lab::cached`].
//!
//! Each run takes a config (validated at entry, errors naming the field) and a base seed; replicate
//! r of condition c uses the seed `child_seed(child_seed(seed, c), r)` ([`replicate_seed`]), so
//! rayon may run replicates in any order and every number is reproducible. Slopes come with seeded
//! bootstrap 95% CIs (`attnlab_exchangeable::fit`). The theory and the numerical building blocks
//! (models, attention, closed forms, fits, minimisers) live in the `attnlab_exchangeable` crate.
//!
//! | module | spec §3 | experiment id (= figure id) |
//! |---|---|---|
//! | [`e1`] | E1: fluctuation rate (T2) | `exchangeable.f1.fluctuation` |
//! | [`e2`] | E2: latent posterior inference (T1, T2) | `exchangeable.f2.posterior` |
//! | [`e3`] | E3: CME and NW, bias–variance (T3) | `exchangeable.f3.cme` |
//! | [`e4`] | E4: supervised ERM, independent of L (T4) | `exchangeable.f4.erm` |
//! | [`e5`] | E5: condition number (T5) | `exchangeable.f5.condition` |
//!
//! [`Lab::cached`]: crate::Lab::cached

pub mod e1;
pub mod e2;
pub mod e3;
pub mod e4;
pub mod e5;

use attnlab_core::config::rules;
use attnlab_core::rng::child_seed;
use attnlab_core::{CacheStatus, ConfigError, MeanSe};
use attnlab_exchangeable::fit::{BOOTSTRAP_RESAMPLES, bootstrap_slope, rms_of};

/// A log-log slope with its seeded bootstrap 95% CI (the record type of every rate check).
pub use attnlab_exchangeable::fit::SlopeFit;

use crate::Lab;
use crate::LabError;
use crate::task::{Paper, Task};

/// The paper's name: its cache key and code version (`crate::experiment::code_version`).
pub const PAPER: &str = "exchangeable";

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

/// Seed of replicate `r` of condition `c`.
pub fn replicate_seed(seed: u64, c: u64, r: u64) -> u64 {
    child_seed(child_seed(seed, c), r)
}

/// The sequence lengths of spec §3: L = 16·2^j, j = 0..=jmax.
pub fn len_grid(jmax: u32) -> Vec<usize> {
    (0..=jmax).map(|j| 16usize << j).collect()
}

/// Seed of the bootstrap of a given statistic (independent of the replicate streams).
fn boot_seed(seed: u64, tag: u64) -> u64 {
    child_seed(seed ^ 0xB007_5712_A9E0_0000, tag)
}

fn lens_ok(field: &'static str, lens: &[usize], min: usize) -> Result<(), ConfigError> {
    if lens.len() < 2 {
        return Err(ConfigError::new(field, format!("{lens:?}"), "needs at least 2 values for a slope"));
    }
    if let Some(&l) = lens.iter().find(|&&l| l < min) {
        return Err(ConfigError::new(field, l, format!("every value must be at least {min}")));
    }
    Ok(())
}

fn positives_ok(field: &'static str, xs: &[f64]) -> Result<(), ConfigError> {
    if xs.len() < 2 {
        return Err(ConfigError::new(field, format!("{xs:?}"), "needs at least 2 values for a slope"));
    }
    for &x in xs {
        rules::positive(field, x)?;
    }
    Ok(())
}

/// Slope fit of the RMS errors of replicate groups: independent groups, or `paired` ones (the
/// same replicates evaluated at every x, resampled together; see [`bootstrap_slope`]).
fn rms_slope(x: &[f64], errs: &[Vec<f64>], seed: u64, paired: bool) -> SlopeFit {
    let sizes: Vec<usize> = errs.iter().map(Vec::len).collect();
    bootstrap_slope(x, &sizes, BOOTSTRAP_RESAMPLES, seed, paired, |g, idx| rms_of(&errs[g], idx))
}

/// [`rms_slope`] over the points whose x passes `keep` (a fit range).
fn rms_slope_where(x: &[f64], errs: &[Vec<f64>], keep: impl Fn(f64) -> bool, seed: u64, paired: bool) -> SlopeFit {
    let (xs, es): (Vec<f64>, Vec<Vec<f64>>) =
        x.iter().zip(errs).filter(|&(&x, _)| keep(x)).map(|(&x, e)| (x, e.clone())).unzip();
    rms_slope(&xs, &es, seed, paired)
}

fn rms(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x * x).sum::<f64>() / xs.len() as f64).sqrt()
}

/// A 95% interval for the RMS of `xs`: the Student-t interval of the mean of x² (n − 1 degrees of
/// freedom), its ends square-rooted (a lower end below 0 becomes 0). `[rms, rms]` for one value.
fn rms_ci(xs: &[f64]) -> [f64; 2] {
    let sq: Vec<f64> = xs.iter().map(|x| x * x).collect();
    let m = MeanSe::of(&sq);
    let half = if xs.len() > 1 { attnlab_comparator::t95(xs.len() - 1) * m.se } else { 0.0 };
    [(m.mean - half).max(0.0).sqrt(), (m.mean + half).sqrt()]
}

/// The task of figure `figure` ([`Task`]): its experiment (the experiment id is the figure id).
/// Cost estimates (single-thread seconds at full size) are from the last full run on 2 cores,
/// doubled; a cached result's time replaces them.
fn tasks(lab: &Lab, figure: &str) -> Result<Vec<Task>, LabError> {
    let est = |full_s: f64| if lab.fast() { full_s / 10.0 } else { full_s };
    let task = match figure {
        e1::ID => Task::new(lab, PAPER, e1::ID, figure, &e1::config(lab.mode), e1::SEED, est(2.0))?,
        e2::ID => Task::new(lab, PAPER, e2::ID, figure, &e2::config(lab.mode), e2::SEED, est(3.5))?,
        e3::ID => Task::new(lab, PAPER, e3::ID, figure, &e3::config(lab.mode), e3::SEED, est(35.0))?,
        e4::ID => Task::new(lab, PAPER, e4::ID, figure, &e4::config(lab.mode), e4::SEED, est(52.0))?,
        e5::ID => Task::new(lab, PAPER, e5::ID, figure, &e5::E5Runs::for_mode(lab.mode), e5::SEED, est(4.0))?,
        _ => return Err(LabError::UnknownExperiment(figure.into())),
    };
    Ok(vec![task])
}

/// Runs a task of this paper (planned by [`tasks`]) into the lab's cache.
fn run_task(lab: &Lab, task: &Task) -> Result<CacheStatus, LabError> {
    Ok(match task.experiment.as_str() {
        e1::ID => e1::run(lab)?.1,
        e2::ID => e2::run(lab)?.1,
        e3::ID => e3::run(lab)?.1,
        e4::ID => e4::run(lab)?.1,
        e5::ID => e5::run(lab)?.1,
        other => return Err(LabError::UnknownExperiment(other.into())),
    })
}

#[cfg(test)]
mod tests {
    use super::e1::E1Config;
    use super::e3::E3Config;
    use super::e4::E4Config;
    use super::e5::E5Config;

    #[test]
    fn configs_name_the_bad_field() {
        let mut c = E1Config::spec(10);
        c.w = f64::NAN;
        assert_eq!(c.validate().map_err(|e| e.field), Err("w"));
        let mut c = E5Config::spec(100);
        c.kappas = vec![0.5, 2.0];
        assert_eq!(c.validate().map_err(|e| e.field), Err("kappas"));
        let mut c = E4Config::spec(4, 100, 2);
        c.ns = vec![8, 16];
        assert_eq!(c.validate().map_err(|e| e.field), Err("ns"));
        let mut c = E3Config::spec(0.1);
        c.fluct_len = 5;
        assert_eq!(c.validate().map_err(|e| e.field), Err("fluct_len"));
    }
}
