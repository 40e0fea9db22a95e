//! Experiment `markov.canonical.landscape`: L(e, w, b*) over an (e, w) grid for (p,q) = (0.2,0.3)
//! and (0.5,0.8), the exactness checks of the closed forms (b*, global and unigram sets, curvature),
//! and the theory's curves in the (e, w) plane: the global set, the energy level lines and the
//! separatrix (spec §3).

use attnlab_core::{CacheStatus, Range1, ResultRecord};
use attnlab_markov::BinaryChain;
use attnlab_markov::canonical::{Canonical, W_CRIT, separatrix_energy};
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::LabError;
use crate::markov::experiments::{PAPER, chain};

/// The seed (the experiment draws nothing at random).
pub const SEED: u64 = 0;

/// Experiment id.
pub const ID: &str = "markov.canonical.landscape";

/// Energy levels E(e, w) whose level lines are recorded (besides the separatrix E*).
pub const LEVELS: [f64; 11] = [-3.0, -2.0, -1.5, -1.2, -0.6, -0.3, 0.0, 0.5, 1.0, 2.0, 3.0];

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The chains, one panel each.
    pub chains: Vec<BinaryChain>,
    /// e axis.
    pub e: Range1,
    /// w axis.
    pub w: Range1,
}

/// One panel's numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Panel {
    /// The chain.
    pub chain: BinaryChain,
    /// (L(e,w,b*) − H*)/(U − H*) on the grid, `gap_fraction[i_e][i_w]`.
    pub gap_fraction: Vec<Vec<f64>>,
    /// max |∂L/∂b| at the closed-form b* over the grid.
    pub max_db_at_bstar: f64,
    /// max |L − H*| over points of the global set.
    pub max_err_global_set: f64,
    /// max |L − U| over points of the unigram set.
    pub max_err_unigram_set: f64,
    /// max |finite-difference ∂²L/∂e² − closed form| on the unigram set.
    pub max_err_curvature: f64,
    /// Finite-difference ∂²L/∂e² at (0, w = 0, ln(p/q)).
    pub fd_curvature_w0: f64,
    /// The e ≥ 0 of the global set c(w)e² = s* at each w of [`Data::w_fine`] (None: no point there).
    pub global_set_e: Vec<Option<f64>>,
}

/// One energy level line: e ≥ 0 with E(e, w) = level at each w of [`Data::w_fine`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LevelLine {
    /// The level.
    pub level: f64,
    /// e ≥ 0 on the level (None: the level does not reach that w).
    pub e: Vec<Option<f64>>,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// One per chain.
    pub panels: Vec<Panel>,
    /// The fine w axis of the theory curves (2001 points on [−2, 2]).
    pub w_fine: Vec<f64>,
    /// Level lines of the conserved energy at [`LEVELS`] (chain-independent).
    pub levels: Vec<LevelLine>,
    /// The separatrix level E = E* through the saddle (0, −1/√2), at every w (the separatrix is its
    /// w < 0 part).
    pub separatrix: LevelLine,
    /// w = −1/√2, where c(w) = 0.
    pub w_crit: f64,
}

fn level_line(level: f64, ws: &[f64]) -> LevelLine {
    LevelLine { level, e: ws.iter().map(|&w| Canonical::energy_level_e(level, w)).collect() }
}

/// Computes the landscape, the checks and the theory curves.
pub fn compute(cfg: &Config) -> Data {
    let w_fine: Vec<f64> = Range1::new(-2.0, 2.0, 2001).map(|r| r.points()).unwrap_or_default();
    let panels = cfg
        .chains
        .iter()
        .map(|ch| {
            let m = Canonical::new(ch);
            let th = m.chain;
            let mut max_db: f64 = 0.0;
            let gap_fraction = cfg
                .e
                .points()
                .into_iter()
                .map(|e| {
                    cfg.w
                        .points()
                        .into_iter()
                        .map(|w| {
                            let g = m.reduced(e, w);
                            max_db = max_db.max(g.db.abs());
                            (g.loss - th.entropy_rate) / th.gap
                        })
                        .collect()
                })
                .collect();
            let ws = Range1::new(-2.0, 2.0, 81).map(|r| r.points()).unwrap_or_default();
            let max_err_global_set = ws
                .iter()
                .filter_map(|&w| m.global_point(w))
                .map(|g| (m.loss(g.e, g.w, g.b) - th.entropy_rate).abs())
                .fold(0.0, f64::max);
            let max_err_unigram_set = ws
                .iter()
                .map(|&w| {
                    let u = m.unigram_point(w);
                    (m.loss(u.e, u.w, u.b) - th.unigram_loss).abs()
                })
                .fold(0.0, f64::max);
            let fd = |w: f64| {
                let b = th.unigram_logit;
                let h = 1e-4;
                (m.loss(h, w, b) - 2.0 * m.loss(0.0, w, b) + m.loss(-h, w, b)) / (h * h)
            };
            let max_err_curvature = ws.iter().map(|&w| (fd(w) - m.unigram_curvature_e(w)).abs()).fold(0.0, f64::max);
            Panel {
                chain: *ch,
                gap_fraction,
                max_db_at_bstar: max_db,
                max_err_global_set,
                max_err_unigram_set,
                max_err_curvature,
                fd_curvature_w0: fd(0.0),
                global_set_e: w_fine.iter().map(|&w| m.global_point(w).map(|g| g.e)).collect(),
            }
        })
        .collect();
    let levels = LEVELS.iter().map(|&l| level_line(l, &w_fine)).collect();
    let separatrix = level_line(separatrix_energy(), &w_fine);
    Data { panels, w_fine, levels, separatrix, w_crit: W_CRIT }
}

/// The config at the lab's size: 121² grid points (fast) or 241² (full).
pub fn config(lab: &Lab) -> Result<Config, LabError> {
    let n = if lab.fast() { 121 } else { 241 };
    Ok(Config {
        chains: vec![chain(0.2, 0.3)?, chain(0.5, 0.8)?],
        e: Range1::new(-2.5, 2.5, n)?,
        w: Range1::new(-2.0, 2.0, n)?,
    })
}

/// The record (computed, or read from the cache).
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, Data>, CacheStatus), LabError> {
    let cfg = config(lab)?;
    lab.cached(PAPER, ID, &cfg, SEED, || Ok::<_, LabError>(compute(&cfg)))
}
