//! Experiment `markov.canonical.basin`: for p = q = 0.1 and p = q = 0.9, gradient flow (b held at b*)
//! from every initial (e, w) of a grid, next to the basin the theory predicts for it (spec §3
//! "Basins of attraction"), and the theory's map of predicted basins and separatrix on a fine grid.

use attnlab_core::{CacheStatus, Range1, ResultRecord};
use attnlab_markov::canonical::{Basin, Canonical, W_CRIT, separatrix_energy};
use attnlab_markov::flow::{Endpoint, FlowOutcome, gradient_flow};
use attnlab_markov::{BinaryChain, FlowConfig};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::LabError;
use crate::markov::experiments::{PAPER, chain};

/// The seed (the experiment draws nothing at random).
pub const SEED: u64 = 0;

/// Experiment id.
pub const ID: &str = "markov.canonical.basin";

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// One panel per chain.
    pub chains: Vec<BinaryChain>,
    /// Initial e values.
    pub e: Range1,
    /// Initial w values.
    pub w: Range1,
    /// Integrator settings.
    pub flow: FlowConfig,
    /// Points closer than this to a basin boundary (|E − E*|, |w + 1/√2|, |w|, |e|) are reported
    /// but left out of the agreement fraction: their fate is decided by rounding.
    pub margin: f64,
}

/// One initial point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    /// Theory's prediction.
    pub predicted: Basin,
    /// Integration result (trajectory kept for a few points only).
    pub flow: FlowOutcome,
    /// Within `margin` of a boundary.
    pub near_boundary: bool,
}

impl Point {
    /// Whether the flow ended where the theory predicts.
    pub fn agrees(&self) -> bool {
        matches!(
            (self.predicted, self.flow.endpoint),
            (Basin::Global, Endpoint::Global) | (Basin::Unigram, Endpoint::Unigram)
        )
    }
}

/// The theory's predicted basin on a fine (e, w) grid, one string per e row with one letter per w:
/// `G` global, `U` unigram, `D` degenerate (p+q = 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BasinMap {
    /// Rows, `rows[i_e]`, one letter per w of [`Data::w_fine`].
    pub rows: Vec<String>,
}

impl BasinMap {
    fn letter(b: Basin) -> char {
        match b {
            Basin::Global => 'G',
            Basin::Unigram => 'U',
            Basin::Degenerate => 'D',
        }
    }

    /// The predicted basin at (w index `i_w`, e index `i_e`); None outside the map.
    pub fn at(&self, i_w: usize, i_e: usize) -> Option<Basin> {
        match self.rows.get(i_e)?.as_bytes().get(i_w)? {
            b'G' => Some(Basin::Global),
            b'U' => Some(Basin::Unigram),
            b'D' => Some(Basin::Degenerate),
            _ => None,
        }
    }
}

/// One panel's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Panel {
    /// The chain.
    pub chain: BinaryChain,
    /// Points, row-major over (e, w).
    pub points: Vec<Point>,
    /// The predicted basins on the fine grid ([`Data::e_fine`] × [`Data::w_fine`]).
    pub predicted: BasinMap,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// One per chain.
    pub panels: Vec<Panel>,
    /// The fine w axis of the theory map and curves (401 points on [−2, 2]).
    pub w_fine: Vec<f64>,
    /// The fine e axis of the theory map (401 points on [−2, 2]).
    pub e_fine: Vec<f64>,
    /// e ≥ 0 on the separatrix level E = E* at each w of `w_fine` (None: not reached; the
    /// separatrix is the w < 0 part).
    pub separatrix_e: Vec<Option<f64>>,
    /// w = −1/√2.
    pub w_crit: f64,
}

/// Integrates the flows (in parallel over points) and maps the predicted basins.
pub fn compute(cfg: &Config) -> Data {
    let (es, ws) = (cfg.e.points(), cfg.w.points());
    let w_fine: Vec<f64> = Range1::new(-2.0, 2.0, 401).map(|r| r.points()).unwrap_or_default();
    let e_fine: Vec<f64> = Range1::new(-2.0, 2.0, 401).map(|r| r.points()).unwrap_or_default();
    let total = (cfg.chains.len() * es.len() * ws.len()) as u64;
    let bar = crate::progress::bar(total, "  basins {bar:30} {pos}/{len} flows ({eta})");
    let panels = cfg
        .chains
        .iter()
        .map(|ch| {
            let m = Canonical::new(ch);
            let grid: Vec<(usize, f64, f64)> = es
                .iter()
                .flat_map(|&e| ws.iter().map(move |&w| (e, w)))
                .enumerate()
                .map(|(k, (e, w))| (k, e, w))
                .collect();
            let points = grid
                .par_iter()
                .map(|&(k, e, w)| {
                    // Keep the path of every 7th point for drawing.
                    let keep = if k % 7 == 3 { 80 } else { 0 };
                    let flow = gradient_flow(&m, e, w, &cfg.flow, keep);
                    bar.inc(1);
                    Point {
                        predicted: m.predicted_basin(e, w),
                        near_boundary: Canonical::separatrix_distance(e, w) < cfg.margin,
                        flow,
                    }
                })
                .collect();
            let rows = e_fine
                .iter()
                .map(|&e| w_fine.iter().map(|&w| BasinMap::letter(m.predicted_basin(e, w))).collect())
                .collect();
            Panel { chain: *ch, points, predicted: BasinMap { rows } }
        })
        .collect();
    bar.finish_and_clear();
    let separatrix_e = w_fine.iter().map(|&w| Canonical::energy_level_e(separatrix_energy(), w)).collect();
    Data { panels, w_fine, e_fine, separatrix_e, w_crit: W_CRIT }
}

/// The config at the lab's size: a 24×24 grid of initial points (fast) or 48×48 (full).
pub fn config(lab: &Lab) -> Result<Config, LabError> {
    let n = if lab.fast() { 24 } else { 48 };
    Ok(Config {
        chains: vec![chain(0.1, 0.1)?, chain(0.9, 0.9)?],
        e: Range1::new(-2.0, 2.0, n)?,
        w: Range1::new(-2.0, 2.0, n)?,
        flow: FlowConfig::new(1e5, 1e-10, 1e-12, 1e-9)?,
        margin: 0.05,
    })
}

/// The record (computed, or read from the cache).
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, Data>, CacheStatus), LabError> {
    let cfg = config(lab)?;
    lab.cached(PAPER, ID, &cfg, SEED, || Ok::<_, LabError>(compute(&cfg)))
}
