//! Spec §5 hidden-Markov-chain task, the experiment behind Fig 2: theory at every width (U solved
//! from the GP point, warm-started along the width grid), GP reference accuracies, kernel alignment,
//! pre-kernels, head scores and theory-side pruning, and blocked-Gibbs posterior samples (§6) at a
//! few widths. Cached under its own id (`paths.markov4`, `paths.markov2`), so the figures that share
//! it compute it once.

use attnlab_paths::OrderParams;
use attnlab_paths::analysis::{HeadScore, head_scores, pc_label_overlaps, prune};
use attnlab_paths::gibbs::{GibbsConfig, sample};
use attnlab_paths::markov_task::{MarkovTask, MarkovTheory, NetConfig, TaskSeeds, WidthResult};
use attnlab_paths::predict::{accuracy, correlation};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::{mat, rel_gap, rows};
use crate::Lab;
use crate::LabError;
use attnlab_core::{CacheStatus, ResultRecord};

/// Which network of spec §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Which {
    /// 4 paths, σ⊥ = 1 (Fig 2c, 2d, pre-kernels).
    Four,
    /// 2 paths, σ⊥ = 5 (Fig 2e).
    Two,
}

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Task (spec §5 sizes).
    pub task: MarkovTask,
    /// Network.
    pub net: NetConfig,
    /// τ.
    pub tau: f64,
    /// Theory widths (ascending).
    pub widths: Vec<f64>,
    /// Widths sampled with Gibbs, with (kept samples, burn-in) per chain.
    pub gibbs: Vec<(usize, usize, usize)>,
    /// Chains per width.
    pub chains: usize,
    /// Width of the alignment / pre-kernel / head-score analysis.
    pub small_width: f64,
    /// Number of PCs in the alignment plot.
    pub top_pcs: usize,
}

/// Theory against samples at one width.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleSummary {
    /// N.
    pub width: usize,
    /// Theory U_1.
    pub u_theory: Vec<Vec<f64>>,
    /// Sampled U_1 (mean over samples and chains).
    pub u_sampled: Vec<Vec<f64>>,
    /// Monte-Carlo SE of each sampled entry.
    pub u_se: Vec<Vec<f64>>,
    /// Theory test accuracy.
    pub acc_theory: f64,
    /// Test accuracy of the sampled mean predictor (all chains).
    pub acc_samples: f64,
    /// Per-chain accuracies.
    pub chain_accuracy: Vec<f64>,
    /// Correlation of the sampled and theory mean predictors on the test set.
    pub corr: f64,
    /// Theory predictor variance (test mean).
    pub var_theory: f64,
    /// Sampled predictor variance (test mean).
    pub var_samples: f64,
    /// ‖U_s − U_t‖_F/‖U_t‖_F.
    pub rel_gap: f64,
    /// Its Monte-Carlo SE (delta method).
    pub rel_gap_se: f64,
    /// Smallest ESS (U entries and a test-prediction trace).
    pub min_ess: f64,
    /// Largest split-R̂.
    pub max_rhat: f64,
    /// Kept samples per chain.
    pub samples: usize,
    /// Burn-in sweeps per chain.
    pub burn_in: usize,
    /// Chains.
    pub chains: usize,
    /// Seconds per sweep.
    pub seconds_per_sweep: f64,
    /// Wall time of the sampling, seconds.
    pub wall_s: f64,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// Path names in path-index order.
    pub paths: Vec<String>,
    /// GP accuracy of this network.
    pub gp_accuracy: f64,
    /// GP accuracy of the good path alone.
    pub gp_good: f64,
    /// GP accuracy of good + denoising.
    pub gp_good_denoising: f64,
    /// Theory per width.
    pub theory: Vec<WidthResult>,
    /// Theory vs samples.
    pub samples: Vec<SampleSummary>,
    /// PC–label overlaps at `small_width`.
    pub align_finite: Vec<f64>,
    /// PC–label overlaps of the GP kernel.
    pub align_gp: Vec<f64>,
    /// Pre-kernel heat maps (name, 50 × 50 on examples 0–24 and 75–99): Π·C_ππ per path, GP, RN.
    pub kernels: Vec<(String, Vec<Vec<f64>>)>,
    /// Head scores at `small_width`.
    pub head_scores: Vec<HeadScore>,
    /// Theory-side pruning at `small_width`: (layer, head, accuracy with that head's paths removed;
    /// None when no path is left).
    pub pruning: Vec<(usize, usize, Option<f64>)>,
    /// Wall time of the largest single U solve, seconds.
    pub max_solve_s: f64,
}

/// The seed of both experiments.
pub const SEED: u64 = 1;

/// The config of `which` in the lab's mode.
pub fn config(lab: &Lab, which: Which) -> Result<Config, LabError> {
    let (net, sigma_perp) = match which {
        Which::Four => (NetConfig::FourPaths, 1.0),
        Which::Two => (NetConfig::TwoPaths, 5.0),
    };
    let task = MarkovTask::spec(sigma_perp)?;
    let widths = if lab.fast() {
        vec![10.0, 30.0, 100.0, 1000.0, 1e4]
    } else {
        vec![10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 300.0, 500.0, 1000.0, 3000.0, 1e4]
    };
    // (width, kept sweeps, burn-in) per chain. The Gibbs chains are nearly all of this experiment's
    // time: a quick run (at most 15 minutes in all) keeps and burns half as many sweeps.
    let gibbs = lab.mode.pick(
        vec![(10, 1000, 250)],
        vec![(10, 2000, 500), (30, 1000, 250), (100, 750, 200)],
        vec![(10, 4000, 1000), (30, 2000, 500), (100, 1500, 400)],
    );
    // Independent Gibbs chains: 16 at full size (every sampled statistic's SE is over chains, with
    // chains − 1 degrees of freedom; with 8, as first run, U at N = 100 had a t interval 1.18× as
    // wide as its ±1.5/N band, so it could not agree whatever the sampler did; 16 chains narrow it
    // to about 0.75×; the reference ran 10), 8 in the quick run, 2 in the smoke run.
    let chains = lab.mode.pick(2, 8, 16);
    Ok(Config { task, net, tau: 0.01, widths, gibbs, chains, small_width: 10.0, top_pcs: 30 })
}

/// The experiment id of `which`.
pub fn id(which: Which) -> &'static str {
    match which {
        Which::Four => "paths.markov4",
        Which::Two => "paths.markov2",
    }
}

/// Runs (or reads back) the experiment `which` at seed 1; the record holds the config it ran with.
pub fn run(lab: &Lab, which: Which) -> Result<(ResultRecord<Config, Data>, CacheStatus), LabError> {
    let cfg = config(lab, which)?;
    lab.cached(super::PAPER, id(which), &cfg, SEED, || compute(&cfg, SEED))
}

/// Computes the experiment (no cache).
pub fn compute(cfg: &Config, seed: u64) -> Result<Data, LabError> {
    let seeds = TaskSeeds::from_base(seed);
    let th = MarkovTheory::new(cfg.task, cfg.net, seeds, cfg.tau)?;
    let gp_ref = |c: NetConfig| -> Result<f64, LabError> {
        let heads = cfg.task.heads(c, seeds.heads);
        Ok(MarkovTheory::from_parts(cfg.task, c, heads, th.train.clone(), th.test.clone(), cfg.tau).gp_accuracy()?)
    };
    let gp_accuracy = th.gp_accuracy()?;
    let gp_good = gp_ref(NetConfig::GoodOnly)?;
    let gp_good_denoising = gp_ref(NetConfig::GoodDenoising)?;

    // Theory along the width grid, warm-started from the previous width.
    let mut theory = Vec::new();
    let mut start: Option<OrderParams> = None;
    for &n in &cfg.widths {
        let (r, p) = th.solve_width(n, start.as_ref())?;
        theory.push(r);
        start = Some(p);
    }
    let max_solve_s = theory.iter().map(|r| r.solve_s).fold(0.0, f64::max);

    // Analyses at the small width.
    let (small, small_p) = th.solve_width(cfg.small_width, None)?;
    let u_small = &small_p.u[0];
    let n_pi = u_small.nrows();
    let y = DVector::from_vec(th.train.y.clone());
    let k_small = th.kernels.kernel(u_small);
    let k_gp = th.kernels.kernel(&DMatrix::identity(n_pi, n_pi));
    let align_finite = pc_label_overlaps(&k_small, &y, cfg.top_pcs);
    let align_gp = pc_label_overlaps(&k_gp, &y, cfg.top_pcs);
    let pick: Vec<usize> = (0..25).chain(75..100).filter(|&i| i < th.train.y.len()).collect();
    let sub = |k: &DMatrix<f64>| -> Vec<Vec<f64>> {
        pick.iter().map(|&i| pick.iter().map(|&j| k[(i, j)]).collect()).collect()
    };
    let mut kernels = Vec::new();
    let names = cfg.net.path_names();
    for (pi, name) in names.iter().enumerate() {
        kernels.push((format!("path {name}"), sub(&(th.kernels.get(pi, pi) * n_pi as f64))));
    }
    kernels.push(("GP kernel".to_string(), sub(&k_gp)));
    kernels.push((format!("finite width (N = {})", cfg.small_width), sub(&k_small)));
    let hpl = th.heads_per_layer();
    let head_scores = head_scores(u_small, &hpl);
    let mut pruning = Vec::new();
    for (layer, &h) in hpl.iter().enumerate() {
        for head in 0..h {
            let up = prune(u_small, &hpl, &[(layer, head)]);
            let acc = if up.amax() == 0.0 { None } else { Some(th.evaluate(&up)?.0) };
            pruning.push((layer, head, acc));
        }
    }
    let _ = small;

    // Gibbs samples.
    let pb = crate::progress::bar(cfg.gibbs.len() as u64, "  paths Gibbs {bar:30} {pos}/{len} widths {msg}");
    let mut samples = Vec::new();
    for (k, &(n, kept, burn)) in cfg.gibbs.iter().enumerate() {
        pb.set_message(format!("N = {n}"));
        let t0 = std::time::Instant::now();
        let (tr, tp) = th.solve_width(n as f64, None)?;
        let (acc_t, var_t, mean_t) = th.evaluate(&tp.u[0])?;
        let arch = th.action(n as f64)?.arch;
        let gc = GibbsConfig::new(kept, burn, cfg.chains, attnlab_core::rng::child_seed(seed, 100 + k as u64))?;
        let g = sample(&arch, &th.train_inputs, &th.train.y, &th.test_inputs, &th.test.y, cfg.tau, &gc)?;
        let ut = mat(&tr.u[0]);
        let us = mat(&g.u_mean);
        let (gap, gap_se) = rel_gap(&us, &ut, &g.u_se);
        samples.push(SampleSummary {
            width: n,
            u_theory: rows(&ut),
            u_sampled: rows(&us),
            u_se: g.u_se.clone(),
            acc_theory: acc_t,
            acc_samples: accuracy(&g.test_mean, &th.test.y),
            chain_accuracy: g.chain_accuracy.clone(),
            corr: correlation(&g.test_mean, &mean_t),
            var_theory: var_t,
            var_samples: g.test_var.iter().sum::<f64>() / g.test_var.len() as f64,
            rel_gap: gap,
            rel_gap_se: gap_se,
            min_ess: g.min_ess,
            max_rhat: g.max_rhat,
            samples: kept,
            burn_in: burn,
            chains: cfg.chains,
            seconds_per_sweep: g.seconds_per_sweep,
            wall_s: t0.elapsed().as_secs_f64(),
        });
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(Data {
        paths: names.iter().map(|s| s.to_string()).collect(),
        gp_accuracy,
        gp_good,
        gp_good_denoising,
        theory,
        samples,
        align_finite,
        align_gp,
        kernels,
        head_scores,
        pruning,
        max_solve_s,
    })
}
