//! SGD with momentum on the exact canonical loss (spec markov §2c training, §3 "Check [derived]"):
//! e, w ~ N(0, σ²) around 0, b = b_init, heavy-ball momentum, full (population) gradient.

use crate::{BinaryChain, SgdConfig};
use attnlab_core::{ConfigError, MeanSe, config::rules, rng::child_seed, seeded_rng};
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::canonical::Canonical;
use crate::chain::ChainTheory;
use crate::flow::{Endpoint, classify};

/// One SGD experiment: a chain, the optimiser, the initial bias, how many seeds and how often to log.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SgdRun {
    /// The chain.
    pub chain: BinaryChain,
    /// Optimiser settings (lr, momentum, steps, init σ).
    pub sgd: SgdConfig,
    /// Initial bias b (the reference takes it from `--b`; 0 by default).
    pub b_init: f64,
    /// Number of seeds (replicates).
    pub seeds: usize,
    /// Log the loss every this many steps.
    pub log_every: usize,
}

impl SgdRun {
    /// Checks b_init finite, seeds ≥ 1, log_every ≥ 1.
    pub fn new(
        chain: BinaryChain,
        sgd: SgdConfig,
        b_init: f64,
        seeds: usize,
        log_every: usize,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            chain,
            sgd,
            b_init: rules::finite("b_init", b_init)?,
            seeds: rules::at_least("seeds", seeds, 1)?,
            log_every: rules::at_least("log_every", log_every, 1)?,
        })
    }
}

/// One seed's trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdTrace {
    /// The replicate's own seed.
    pub seed: u64,
    /// Initial (e, w, b).
    pub init: (f64, f64, f64),
    /// Final (e, w, b).
    pub end: (f64, f64, f64),
    /// Exact loss at the end.
    pub final_loss: f64,
    /// (L − H*)/(U − H*) at the end.
    pub gap_fraction: f64,
    /// Where it ended.
    pub endpoint: Endpoint,
    /// (step, exact loss) at every one of the first 100 steps, then every `log_every` steps, and at
    /// the last step.
    pub curve: Vec<(usize, f64)>,
    /// True if a parameter or the loss became non-finite (the run is then not used as data).
    pub diverged: bool,
}

/// Runs one seed of SGD with momentum from N(0, σ²) on the exact loss.
pub fn run_seed(run: &SgdRun, seed: u64) -> SgdTrace {
    let model = Canonical::new(&run.chain);
    let mut rng = seeded_rng(seed);
    let std = run.sgd.init_std();
    let mut draw = || if std > 0.0 { Normal::new(0.0, std).map(|n| n.sample(&mut rng)).unwrap_or(0.0) } else { 0.0 };
    let mut th = [draw(), draw(), run.b_init];
    let init = (th[0], th[1], th[2]);
    let mut v = [0.0; 3];
    let (lr, mu, steps) = (run.sgd.lr(), run.sgd.momentum(), run.sgd.steps());
    let mut curve = Vec::with_capacity(steps / run.log_every + 2);
    let mut diverged = false;
    for step in 0..=steps {
        let g = model.loss_grad(th[0], th[1], th[2]);
        if !g.loss.is_finite() || th.iter().any(|x| !x.is_finite()) {
            diverged = true;
            break;
        }
        if step < 100 || step % run.log_every == 0 || step == steps {
            curve.push((step, g.loss));
        }
        if step == steps {
            break;
        }
        for (i, gi) in [g.de, g.dw, g.db].into_iter().enumerate() {
            v[i] = mu * v[i] + gi;
            th[i] -= lr * v[i];
        }
    }
    let final_loss = model.loss(th[0], th[1], th[2]);
    let (gap_fraction, endpoint) =
        if diverged { (f64::NAN, Endpoint::Undecided) } else { classify(&model, final_loss) };
    SgdTrace { seed, init, end: (th[0], th[1], th[2]), final_loss, gap_fraction, endpoint, curve, diverged }
}

/// What theory predicts for SGD from a small init around 0 (spec §3 "Basins … Consequence"), and
/// how the seeds did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdSummary {
    /// Predicted end: the global set (H*) for p+q < 1, the unigram set (U) otherwise.
    pub predicted_end: Endpoint,
    /// The predicted final loss: H* or U accordingly.
    pub predicted_loss: f64,
    /// Final losses of the runs that did not diverge.
    pub final_losses: Vec<f64>,
    /// Runs that ended at H*.
    pub ended_global: usize,
    /// Runs that ended at U.
    pub ended_unigram: usize,
    /// Runs that ended at neither.
    pub undecided: usize,
    /// Runs that diverged (not used as data).
    pub diverged: usize,
}

impl SgdSummary {
    /// Summarises the traces of `run` against the theory's prediction.
    pub fn new(run: &SgdRun, traces: &[SgdTrace]) -> Self {
        let t = ChainTheory::new(&run.chain);
        let (predicted_end, predicted_loss) =
            if t.switching < 1.0 { (Endpoint::Global, t.entropy_rate) } else { (Endpoint::Unigram, t.unigram_loss) };
        let count = |e: Endpoint| traces.iter().filter(|tr| !tr.diverged && tr.endpoint == e).count();
        Self {
            predicted_end,
            predicted_loss,
            final_losses: traces.iter().filter(|tr| !tr.diverged).map(|tr| tr.final_loss).collect(),
            ended_global: count(Endpoint::Global),
            ended_unigram: count(Endpoint::Unigram),
            undecided: count(Endpoint::Undecided),
            diverged: traces.iter().filter(|tr| tr.diverged).count(),
        }
    }

    /// Number of runs that ended where theory predicts.
    pub fn hits(&self) -> usize {
        match self.predicted_end {
            Endpoint::Global => self.ended_global,
            _ => self.ended_unigram,
        }
    }

    /// Mean ± SE of the final losses (NaN for no usable run).
    pub fn final_loss(&self) -> MeanSe {
        MeanSe::of(&self.final_losses)
    }
}

/// Runs every seed (child seeds of `base_seed`), in order.
pub fn run_all(run: &SgdRun, base_seed: u64) -> Vec<SgdTrace> {
    (0..run.seeds as u64).map(|i| run_seed(run, child_seed(base_seed, i))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_init_goes_global_below_and_unigram_above_the_line() {
        let sgd = SgdConfig::new(0.01, 0.9, 5000, 0.1).unwrap();
        for (p, q, want) in [(0.2, 0.3, Endpoint::Global), (0.9, 0.9, Endpoint::Unigram)] {
            let run = SgdRun::new(BinaryChain::new(p, q).unwrap(), sgd, 0.0, 3, 100).unwrap();
            let traces = run_all(&run, 7);
            for t in &traces {
                assert!(!t.diverged);
                assert_eq!(t.endpoint, want, "({p},{q}) seed {}: {t:?}", t.seed);
            }
            let s = SgdSummary::new(&run, &traces);
            assert_eq!((s.predicted_end, s.hits(), s.final_losses.len()), (want, 3, 3));
        }
    }
}
