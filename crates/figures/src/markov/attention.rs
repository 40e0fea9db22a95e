//! Figure `markov.train.attention` (spec markov §5 F13, F14; §3 "attention at convergence"): in the
//! trained 1-layer theory model the attention output becomes negligible next to the skip connection
//! (‖Attn out‖/‖x + Attn out‖ → 0) and its pattern is uniform over the prefix (row n ≈ 1/n).

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_core::MeanSe;
use attnlab_trainer::{Arch, Data, TrainConfig, TrainOutcome, TrainSettings};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::train::train_all;
use super::{chain, code_version};
use crate::plot::{colorbar, heatmap, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::{okabe_ito, viridis};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Iterations of F13's own panel (the reference plots the first 200).
pub const F13_ITERS: usize = 200;
/// Tolerance on the final attention-output ratio (claim: it decays towards 0).
pub const RATIO_TOL: f64 = 0.05;
/// Tolerance on the mean total-variation distance of a row from uniform (claim: row n ≈ 1/n).
pub const TV_TOL: f64 = 0.1;

/// The experiment's config: one run per seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The runs (theory model, p = 0.2, q = 0.3, probing on).
    pub runs: Vec<TrainConfig>,
}

/// Outcomes per seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttentionData {
    /// One per run.
    pub outcomes: Vec<TrainOutcome>,
}

/// The ratio curve of a run: (iteration, ‖Attn out‖/‖x + Attn out‖).
fn ratio_curve(o: &TrainOutcome) -> Vec<(f64, f64)> {
    o.curve.iter().filter_map(|e| e.attn_ratio.filter(|r| r.is_finite()).map(|r| (e.iter as f64, r))).collect()
}

/// Mean total-variation distance between row n of a causal attention matrix and the uniform law
/// 1/n over its n visible keys, over rows 2..=side (row 1 is trivially uniform).
pub fn tv_from_uniform(att: &[Vec<f64>]) -> f64 {
    let rows: Vec<f64> = att
        .iter()
        .enumerate()
        .skip(1)
        .map(|(n, row)| {
            let u = 1.0 / (n + 1) as f64;
            0.5 * row[..=n].iter().map(|a| (a - u).abs()).sum::<f64>()
        })
        .collect();
    rows.iter().sum::<f64>() / rows.len().max(1) as f64
}

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let fast = ctx.fast();
    let mut base = TrainSettings::defaults(Arch::Theory, Data::binary(chain(0.2, 0.3)?), 0);
    base.seq_len = if fast { 32 } else { 256 };
    base.iters = if fast { 100 } else { 1000 };
    base.eval_every = 10;
    base.probe = true;
    let seeds = if fast { 2 } else { 5 };
    let cfg = Config { runs: (0..seeds).map(|s| TrainSettings { seed: 3000 + s, ..base.clone() }.check()).collect::<Result<_, _>>()? };
    let seed = 3000;
    let (rec, status) = ctx.lab.cache.get_or_compute(spec.id, &cfg, seed, &code_version(), || {
        Ok::<_, FigureError>(AttentionData { outcomes: train_all(&cfg.runs)? })
    })?;
    let data = &rec.result;
    let os = &data.outcomes;
    let c = &base;
    let setting = format!("theory model (§2a), tied, d {}, N {}, {} iterations, p = 0.2, q = 0.3, {} seeds", c.d, c.seq_len, c.iters, os.len());
    let mut js = Vec::new();
    // F13, rise: the ratio at its peak within the first 200 iterations exceeds its value at init.
    let rose: Vec<bool> = os
        .iter()
        .map(|o| {
            let r = ratio_curve(o);
            let init = r.first().map_or(f64::NAN, |p| p.1);
            r.iter().filter(|p| p.0 <= F13_ITERS as f64).any(|p| p.1 > init)
        })
        .collect();
    js.push(Judgement::new(
        Claim::new(
            &format!("{}.F13.rise", spec.id),
            "markov",
            format!("‖Attn out‖/‖x + Attn out‖ rises above its value at initialisation within the first {F13_ITERS} iterations, in every seed ({setting})"),
            "§5 F13",
        ),
        1.0,
        Observation::fraction(rose.iter().filter(|&&b| b).count(), rose.len()),
        Tolerance::Absolute(0.1),
        spec.id,
        "fraction of seeds",
    ));
    // F13, decay: at the end of training the attention output is negligible.
    let finals: Vec<f64> = os.iter().filter_map(|o| ratio_curve(o).last().map(|p| p.1)).collect();
    let peaks: Vec<f64> = os.iter().map(|o| ratio_curve(o).iter().map(|p| p.1).fold(0.0, f64::max)).collect();
    js.push(Judgement::new(
        Claim::new(
            &format!("{}.F13.decay", spec.id),
            "markov",
            format!(
                "the attention output becomes negligible: final ‖Attn out‖/‖x + Attn out‖ ≈ 0 (±{RATIO_TOL}); per seed final [{}], peak [{}] ({setting})",
                finals.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", "),
                peaks.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ")
            ),
            "§3 attention at convergence [rebuttal], §5 F13",
        ),
        0.0,
        Observation::mean(MeanSe::of(&finals)),
        Tolerance::Absolute(RATIO_TOL),
        spec.id,
        "ratio",
    ));
    // F14: the pattern is uniform over the prefix.
    let tvs: Vec<f64> = os.iter().filter_map(|o| o.attention.as_deref().map(tv_from_uniform)).collect();
    let side = os.first().and_then(|o| o.attention.as_ref().map(Vec::len)).unwrap_or(0);
    js.push(Judgement::new(
        Claim::new(
            &format!("{}.F14.uniform", spec.id),
            "markov",
            format!(
                "row n of the trained attention matrix is uniform over the prefix (1/n): mean total-variation distance from \
                 uniform over rows 2..{side} of a held-out sequence ≈ 0 (±{TV_TOL}); per seed [{}] ({setting})",
                tvs.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ")
            ),
            "§3 attention at convergence [rebuttal], §5 F14",
        ),
        0.0,
        Observation::mean(MeanSe::of(&tvs)),
        Tolerance::Absolute(TV_TOL),
        spec.id,
        "TV distance",
    ));
    render(&AttentionFig { data }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Left (F13): ‖Attn out‖/‖x + Attn out‖ of the trained theory model, averaged over positions and held-out \
             batches, one line per seed; the grey line marks iteration {F13_ITERS}, where the reference's panel ends. \
             Right (F14): the first {side}×{side} of the attention matrix of seed 1 after training, on one held-out \
             sequence (row = query n, column = key i ≤ n; white = masked). Theory: the ratio decays towards 0 and row n \
             is uniform, 1/n."
        ),
    })
}

struct AttentionFig<'a> {
    data: &'a AttentionData,
}

const COLORS: [RGBColor; 5] = [okabe_ito::BLACK, okabe_ito::ORANGE, okabe_ito::GREEN, okabe_ito::PURPLE, okabe_ito::SKY];

impl Figure for AttentionFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1300, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (left, right) = root.split_horizontally(660);
        let (map_area, bar) = right.split_horizontally(560);
        let os = &self.data.outcomes;
        let iters = os.iter().map(|o| o.config.iters).max().unwrap_or(1) as f64;
        let top = os.iter().flat_map(ratio_curve).map(|p| p.1).fold(0.01, f64::max) * 1.1;
        let mut ch = panel(&left, "F13: attention output / residual stream", 0.0..iters, 0.0..top, "iteration", "‖Attn out‖ / ‖x + Attn out‖")?;
        for (s, o) in os.iter().enumerate() {
            let col = COLORS[s % COLORS.len()];
            ch.draw_series(LineSeries::new(ratio_curve(o), col.stroke_width(2)))?.label(format!("seed {}", s + 1)).legend(seg(col, 2));
        }
        let x = F13_ITERS as f64;
        ch.draw_series(LineSeries::new(vec![(x, 0.0), (x, top)], okabe_ito::GREY.stroke_width(1)))?;
        legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        let Some(att) = os.first().and_then(|o| o.attention.as_ref()) else { return Ok(()) };
        let n = att.len();
        let hi = att.iter().flatten().copied().fold(0.0, f64::max).max(1e-9);
        let idx: Vec<f64> = (1..=n).map(|i| i as f64).collect();
        let mut ch = panel(&map_area, "F14: attention matrix after training (seed 1)", 0.5..n as f64 + 0.5, 0.5..n as f64 + 0.5, "key i", "query n")?;
        heatmap(&mut ch, &idx, &idx, |i, j| if i > j { WHITE } else { viridis(att[j][i] / hi) })?;
        colorbar(&bar, 0.0, hi, "attention weight", viridis)?;
        Ok(())
    }
}
