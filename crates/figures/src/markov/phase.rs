//! Figure `markov.train.phase`: phase diagrams over a (p, q) grid — theory model (§2a) and
//! GPT-style model (§2b), tied and untied: where the final loss sits between H* (0) and U (1), and
//! how long the run stayed on the plateau at U, and (F8) how far the predicted transition
//! probabilities P̂(1 | 0), P̂(1 | 1) are from the chain's p and 1 − q. The theory boundary p+q = 1 is drawn.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_trainer::{Arch, Data, PlateauLength, TrainConfig, TrainOutcome, TrainSettings};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::train::train_all;
use super::{chain, code_version};
use crate::plot::{colorbar, dashed, heatmap, panel};
use crate::render::{DrawResult, Figure, render};
use crate::style::viridis;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Cells with U − H* below this are left grey: the two losses are too close to tell apart.
pub const MIN_GAP: f64 = 0.03;

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Grid values of p and q.
    pub grid: Vec<f64>,
    /// (architecture, tying) of each column.
    pub models: Vec<(Arch, bool)>,
    /// Seeds per cell.
    pub seeds: u64,
    /// Template config (data and seed are replaced per cell).
    pub base_gpt: TrainConfig,
    /// Template for the theory model.
    pub base_theory: TrainConfig,
}

/// Per model, per (i = p index, j = q index): the outcomes over seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseData {
    /// cells[model][i][j][seed].
    pub cells: Vec<Vec<Vec<Vec<TrainOutcome>>>>,
}

fn cell_config(cfg: &Config, arch: Arch, tying: bool, p: f64, q: f64, seed: u64) -> Result<TrainConfig, FigureError> {
    let base = if arch == Arch::Gpt { &cfg.base_gpt } else { &cfg.base_theory };
    Ok(TrainSettings { data: Data::binary(chain(p, q)?), tying, seed, ..base.settings() }.check()?)
}

/// Position of the final loss between H* (0) and U (1), mean over seeds; NaN where U − H* < MIN_GAP.
fn position(os: &[TrainOutcome]) -> f64 {
    let Some(o) = os.first() else { return f64::NAN };
    let gap = o.unigram_loss - o.entropy_rate;
    let finals: Vec<f64> = os.iter().filter_map(|o| o.final_loss).collect();
    if gap < MIN_GAP || finals.is_empty() {
        return f64::NAN;
    }
    finals.iter().map(|l| (l - o.entropy_rate) / gap).sum::<f64>() / finals.len() as f64
}

/// Plateau at U as a fraction of the run (never left = 1), mean over seeds.
fn plateau(os: &[TrainOutcome]) -> f64 {
    let Some(o) = os.first() else { return f64::NAN };
    if o.unigram_loss - o.entropy_rate < MIN_GAP {
        return f64::NAN;
    }
    let f = |o: &TrainOutcome| match o.plateau.length() {
        PlateauLength::NeverEntered => 0.0,
        PlateauLength::NeverLeft { entered } => (o.config.iters - entered) as f64 / o.config.iters as f64,
        PlateauLength::Iters(n) => n as f64 / o.config.iters as f64,
    };
    os.iter().map(f).sum::<f64>() / os.len() as f64
}

/// Band on a predicted transition probability for "matches the chain" (spec §6 uses ±0.02).
// (the half-width of attnlab_trainer::train::PROB_BAND, spec §6)
pub const PROB_BAND: f64 = 0.02;
/// Upper end of the colour scale of the F8 row.
pub const ERR_SCALE: f64 = 0.2;

/// Distances of a run's final P̂(1 | 0), P̂(1 | 1) from the chain (p, 1 − q) and from the unigram
/// predictor (π1, π1): the larger of the two states' errors for each.
fn transition_errors(o: &TrainOutcome) -> Option<(f64, f64)> {
    let (a, b, pi1) = (o.p1_given_0?, o.p1_given_1?, o.pi1?);
    let attnlab_trainer::Data::Binary { chain, .. } = &o.config.data else { return None };
    let truth = (a - chain.p()).abs().max((b - (1.0 - chain.q())).abs());
    let unigram = (a - pi1).abs().max((b - pi1).abs());
    Some((truth, unigram))
}

/// F8 row: the error to the chain, mean over seeds (NaN where U − H* < MIN_GAP, as in the other rows).
fn transition_error(os: &[TrainOutcome]) -> f64 {
    let Some(o) = os.first() else { return f64::NAN };
    let errs: Vec<f64> = os.iter().filter_map(|o| transition_errors(o).map(|e| e.0)).collect();
    if o.unigram_loss - o.entropy_rate < MIN_GAP || errs.is_empty() {
        return f64::NAN;
    }
    errs.iter().sum::<f64>() / errs.len() as f64
}

/// One claim per (model, side of p+q = 1): the theorems predict "stuck at U" for the tied model
/// above the line and "reaches H*" everywhere else. `cell(outcomes, expect_u)` says whether a cell
/// behaves as predicted and describes the test (None: the cell cannot tell, e.g. U − H* < MIN_GAP);
/// the observation is the fraction of cells that do, judged against 1 ± 0.1.
fn side_claims(
    cfg: &Config,
    data: &PhaseData,
    id: &str,
    prefix: &str,
    source: &str,
    cell: impl Fn(&[TrainOutcome], bool) -> Option<(bool, String)>,
) -> Vec<Judgement> {
    let mut js = Vec::new();
    for (m, &(arch, tying)) in cfg.models.iter().enumerate() {
        for above in [true, false] {
            let expect_u = tying && above;
            let (mut hit, mut total, mut what) = (0usize, 0usize, String::new());
            for (i, &p) in cfg.grid.iter().enumerate() {
                for (j, &q) in cfg.grid.iter().enumerate() {
                    if (p + q > 1.0) != above || (p + q - 1.0).abs() < 1e-9 {
                        continue;
                    }
                    if let Some((ok, w)) = cell(&data.cells[m][i][j], expect_u) {
                        total += 1;
                        hit += usize::from(ok);
                        what = w;
                    }
                }
            }
            if total == 0 {
                continue;
            }
            let side = if above { "p+q > 1" } else { "p+q < 1" };
            let tied = if tying { "tied" } else { "untied" };
            let base = if arch == Arch::Gpt { &cfg.base_gpt } else { &cfg.base_theory };
            js.push(Judgement::new(
                Claim::new(
                    &format!("{id}.{prefix}{}.{tied}.{}", arch.name(), if above { "above" } else { "below" }),
                    "markov",
                    format!(
                        "{} model, {tied}, {side}: {what} in every grid cell with U − H* ≥ {MIN_GAP} ({hit}/{total} cells; N {}, {} iterations, {} seeds)",
                        arch.name(),
                        base.seq_len,
                        base.iters,
                        cfg.seeds
                    ),
                    source,
                ),
                1.0,
                Observation::fraction(hit, total),
                Tolerance::Absolute(0.1),
                id,
                "fraction of cells",
            ));
        }
    }
    js
}

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let fast = ctx.fast();
    let n = if fast { 3 } else { 10 };
    let grid: Vec<f64> = (0..n).map(|k| 0.05 + 0.9 * k as f64 / (n - 1) as f64).map(|x| (x * 100.0_f64).round() / 100.0).collect();
    let any = Data::binary(chain(0.5, 0.5)?);
    let mut base_gpt = TrainSettings::defaults(Arch::Gpt, any, 0);
    let mut base_theory = TrainSettings::defaults(Arch::Theory, any, 0);
    for (b, iters) in [(&mut base_gpt, 400), (&mut base_theory, 400)] {
        b.seq_len = if fast { 16 } else { 32 };
        b.iters = if fast { 40 } else { iters };
        b.eval_every = (b.iters / 30).max(1);
    }
    let cfg = Config {
        grid,
        models: vec![(Arch::Theory, true), (Arch::Theory, false), (Arch::Gpt, true), (Arch::Gpt, false)],
        seeds: if fast { 1 } else { 2 },
        base_gpt: base_gpt.check()?,
        base_theory: base_theory.check()?,
    };
    let seed = 2000;
    let (rec, status) = ctx.lab.cache.get_or_compute(spec.id, &cfg, seed, &code_version(), || {
        let mut all = Vec::new();
        for &(arch, tying) in &cfg.models {
            for &p in &cfg.grid {
                for &q in &cfg.grid {
                    for s in 0..cfg.seeds {
                        all.push(cell_config(&cfg, arch, tying, p, q, seed + s)?);
                    }
                }
            }
        }
        let mut done = train_all(&all)?.into_iter();
        let k = cfg.grid.len();
        let cells = (0..cfg.models.len())
            .map(|_| (0..k).map(|_| (0..k).map(|_| done.by_ref().take(cfg.seeds as usize).collect()).collect()).collect())
            .collect();
        Ok::<_, FigureError>(PhaseData { cells })
    })?;
    let data = &rec.result;
    let mut js = side_claims(&cfg, data, spec.id, "", "§3 T1–T3 (theory model); §5 F8 (GPT-style)", |os, expect_u| {
        let r = position(os);
        let what = if expect_u { "the seed-mean final loss stays near U (position > 0.75)" } else { "the seed-mean final loss reaches H* (position < 0.25)" };
        (!r.is_nan()).then(|| ((expect_u && r > 0.75) || (!expect_u && r < 0.25), what.to_string()))
    });
    // F8: the predicted transition probabilities match the chain, except tied with p+q > 1 where
    // the paper's panel shows them pulled towards the unigram value π1.
    js.extend(side_claims(&cfg, data, spec.id, "F8.", "§5 F8", |os, expect_u| {
        if transition_error(os).is_nan() {
            return None;
        }
        let errs: Vec<(f64, f64)> = os.iter().filter_map(transition_errors).collect();
        let mean = |f: fn(&(f64, f64)) -> f64| errs.iter().map(f).sum::<f64>() / errs.len() as f64;
        let (to_chain, to_unigram) = (mean(|e| e.0), mean(|e| e.1));
        Some(if expect_u {
            (to_unigram < to_chain, "the final predicted transition probability (seed mean) is closer to the unigram predictor (π1, π1) than to the chain (p, 1 − q)".into())
        } else {
            (to_chain <= PROB_BAND, format!("the final predicted transition probability (seed mean) matches the chain: |P̂(1|0) − p| and |P̂(1|1) − (1 − q)| ≤ {PROB_BAND}"))
        })
    }));
    render(&PhaseFig { cfg: &cfg, data }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: "Top: where the final held-out loss sits between H* (0) and U (1), mean over seeds, per (p, q) \
                  cell; bottom: the fraction of the run spent on the plateau within 0.01 of U (1 = never left). \
                  Third row (F8): the larger of |P̂(1|0) − p| and |P̂(1|1) − (1 − q)| at the end (0 = the model predicts \
                  the chain's transitions; colour scale clipped at 0.2). Grey: U − H* < 0.03, too close to tell apart. Dashed white: the theory boundary p+q = 1; the \
                  theorems predict 1 above it for the tied theory model and 0 everywhere else."
            .into(),
    })
}

struct PhaseFig<'a> {
    cfg: &'a Config,
    data: &'a PhaseData,
}

impl Figure for PhaseFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1900, 1330)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (maps, bars) = root.split_horizontally(1800);
        let rows = maps.split_evenly((3, self.cfg.models.len()));
        let bar_rows = bars.split_evenly((3, 1));
        let g = &self.cfg.grid;
        let err_row = |os: &[TrainOutcome]| transition_error(os) / ERR_SCALE;
        for (m, &(arch, tying)) in self.cfg.models.iter().enumerate() {
            let name = format!("{} model, {}", arch.name(), if tying { "tied" } else { "untied" });
            let kinds: [(&str, &dyn Fn(&[TrainOutcome]) -> f64); 3] = [
                ("final loss: 0 = H*, 1 = U", &position),
                ("plateau at U / run length", &plateau),
                ("F8: max |P_model − P| over states", &err_row),
            ];
            for (row, (label, f)) in kinds.into_iter().enumerate() {
                let area = &rows[row * self.cfg.models.len() + m];
                let mut ch = panel(area, &format!("{name}: {label}"), 0.0..1.0, 0.0..1.0, "p = P(0→1)", "q = P(1→0)")?;
                heatmap(&mut ch, g, g, |i, j| viridis(f(&self.data.cells[m][i][j])))?;
                ch.draw_series(dashed(vec![(0.0, 1.0), (1.0, 0.0)], RGBColor(255, 255, 255), 2))?;
            }
        }
        for (k, area) in bar_rows.iter().enumerate() {
            let hi = if k == 2 { ERR_SCALE } else { 1.0 };
            colorbar(area, 0.0, hi, "", viridis)?;
        }
        Ok(())
    }
}
