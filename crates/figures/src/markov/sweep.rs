//! Figure `markov.train.memory-sweep` (spec markov §4, §5 F11 and F12): on the order-2 lagged chain,
//! the final loss and the predicted P̂(1 | x_{n−1} = 0) of the GPT-style model as the memory mask m
//! grows from 1 (only the lagged symbol and itself visible) to full causal attention, for depth 1 and 4.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_core::MeanSe;
use attnlab_markov::LaggedChain;
use attnlab_trainer::{Arch, Data, TrainConfig, TrainOutcome, TrainSettings};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::train::train_all;
use super::{chain, code_version};
use crate::plot::{dashed, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Slack (nats) allowed when checking that the loss does not fall as m grows (evaluation noise).
pub const SLACK: f64 = 0.01;

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Memory values m; `None` = full causal attention (drawn at m = N).
    pub memories: Vec<Option<usize>>,
    /// Depths L and seeds per depth.
    pub depths: Vec<(usize, u64)>,
    /// Template run (memory, layers and seed replaced).
    pub base: TrainConfig,
}

/// outcomes[depth][memory][seed].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepData {
    /// The outcomes.
    pub outcomes: Vec<Vec<Vec<TrainOutcome>>>,
}

fn m_value(m: Option<usize>, n: usize) -> f64 {
    m.unwrap_or(n) as f64
}

/// Mean over seeds of a per-run number.
fn seed_mean(os: &[TrainOutcome], f: impl Fn(&TrainOutcome) -> Option<f64>) -> Option<MeanSe> {
    let v: Vec<f64> = os.iter().filter_map(f).collect();
    (!v.is_empty()).then(|| MeanSe::of(&v))
}

fn final_loss(os: &[TrainOutcome]) -> Option<f64> {
    seed_mean(os, |o| o.final_loss).map(|m| m.mean)
}

fn estimate(os: &[TrainOutcome]) -> Option<f64> {
    seed_mean(os, |o| (!o.occurrences.is_empty()).then(|| o.occurrences.iter().sum::<f64>() / o.occurrences.len() as f64)).map(|m| m.mean)
}

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let fast = ctx.fast();
    let lag = Data::Lagged { chain: LaggedChain::stationary(chain(0.2, 0.3)?, 2)? };
    let mut base = TrainSettings::defaults(Arch::Gpt, lag, 0);
    base.seq_len = if fast { 32 } else { 128 };
    base.iters = if fast { 60 } else { 500 };
    base.eval_every = (base.iters / 10).max(1);
    let memories: Vec<Option<usize>> = if fast {
        vec![Some(1), Some(8), None]
    } else {
        vec![Some(1), Some(2), Some(4), Some(8), Some(16), Some(32), Some(64), None]
    };
    let depths = if fast { vec![(1, 1)] } else { vec![(1, 2), (4, 1)] };
    let cfg = Config { memories, depths, base: base.check()? };
    let seed = 4000;
    let (rec, status) = ctx.lab.cache.get_or_compute(spec.id, &cfg, seed, &code_version(), || {
        let mut all = Vec::new();
        for &(layers, seeds) in &cfg.depths {
            for &memory in &cfg.memories {
                for s in 0..seeds {
                    all.push(TrainSettings { layers, memory, seed: seed + s, ..cfg.base.settings() }.check()?);
                }
            }
        }
        let mut done = train_all(&all)?.into_iter();
        let outcomes = cfg
            .depths
            .iter()
            .map(|&(_, seeds)| cfg.memories.iter().map(|_| done.by_ref().take(seeds as usize).collect()).collect())
            .collect();
        Ok::<_, FigureError>(SweepData { outcomes })
    })?;
    let data = &rec.result;
    let n = cfg.base.seq_len;
    let mut js = Vec::new();
    for (&(layers, seeds), per_m) in cfg.depths.iter().zip(&data.outcomes) {
        let losses: Vec<(f64, f64)> =
            cfg.memories.iter().zip(per_m).filter_map(|(&m, os)| final_loss(os).map(|l| (m_value(m, n), l))).collect();
        let (mut ok, mut pairs) = (0usize, 0usize);
        for i in 0..losses.len() {
            for j in i + 1..losses.len() {
                pairs += 1;
                if losses[i].1 <= losses[j].1 + SLACK {
                    ok += 1;
                }
            }
        }
        let listing: Vec<String> = losses.iter().map(|(m, l)| if *m as usize == n { format!("full: {l:.3}") } else { format!("m {m}: {l:.3}") }).collect();
        js.push(Judgement::new(
            Claim::new(
                &format!("{}.L{layers}.monotone", spec.id),
                "markov",
                format!(
                    "order-2 lagged chain (p = 0.2, q = 0.3), GPT-style L = {layers}, d {}, N {n}, {} iterations, {seeds} seed(s): the \
                     final loss increases with the memory m — every pair m < m' has loss(m) ≤ loss(m') + {SLACK} ({ok}/{pairs} pairs); \
                     final losses: {}",
                    cfg.base.d,
                    cfg.base.iters,
                    listing.join(", ")
                ),
                "§4, §5 F11 [inferred]",
            ),
            1.0,
            Observation::fraction(ok, pairs),
            Tolerance::Absolute(0.1),
            spec.id,
            "fraction of pairs",
        ));
    }
    render(&SweepFig { cfg: &cfg, data }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Order-2 lagged chain, p = 0.2, q = 0.3, GPT-style model (d {}, N {n}, {} iterations). Left (F11): final held-out \
             loss against the memory m (m + 1 visible tokens; 'full' drawn at m = N), mean over seeds, one line per depth; \
             dashed: H* (blue) and U (vermillion). Right (F12): the mean predicted P̂(x_{{n+1}} = 1 | x_{{n−1}} = 0) at the \
             first 100 occurrences in a held-out sequence; dashed: p = 0.2 (blue) and π1 = 0.4 (vermillion). Smaller N \
             than the reference's 1024 (spec §7).",
            cfg.base.d, cfg.base.iters
        ),
    })
}

struct SweepFig<'a> {
    cfg: &'a Config,
    data: &'a SweepData,
}

const COLORS: [RGBColor; 3] = [okabe_ito::BLACK, okabe_ito::ORANGE, okabe_ito::GREEN];

impl Figure for SweepFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1240, 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let areas = root.split_evenly((1, 2));
        let n = self.cfg.base.seq_len;
        let Some(first) = self.data.outcomes.first().and_then(|d| d.first()).and_then(|m| m.first()) else { return Ok(()) };
        let (h, u, pi1) = (first.entropy_rate, first.unigram_loss, first.pi1.unwrap_or(f64::NAN));
        let xr = || (0.8..n as f64 * 1.25).log_scale();
        type Stat = fn(&[TrainOutcome]) -> Option<f64>;
        let panels: [(&str, &str, Stat, f64, f64, (String, String)); 2] = [
            ("F11: final loss vs memory m", "held-out loss (nats)", final_loss, h, u, (format!("H* = {h:.3}"), format!("U = {u:.3}"))),
            ("F12: model's P(1 | x_{n−1} = 0) vs memory m", "predicted probability", estimate, 0.2, pi1, ("p = 0.2".into(), format!("π1 = {pi1:.3}"))),
        ];
        for (area, (title, ydesc, stat, lo_line, hi_line, (lo_label, hi_label))) in areas.iter().zip(panels) {
            let vals: Vec<f64> = self.data.outcomes.iter().flatten().filter_map(|os| stat(os)).chain([lo_line, hi_line]).collect();
            let (lo, hi) = vals.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            let pad = 0.1 * (hi - lo).max(0.02);
            let mut ch = panel(area, title, xr(), (lo - pad)..(hi + pad), "memory m (log scale; right-most = full attention)", ydesc)?;
            for (k, (&(layers, seeds), per_m)) in self.cfg.depths.iter().zip(&self.data.outcomes).enumerate() {
                let col = COLORS[k % COLORS.len()];
                let pts: Vec<(f64, f64)> =
                    self.cfg.memories.iter().zip(per_m).filter_map(|(&m, os)| stat(os).map(|v| (m_value(m, n), v))).collect();
                ch.draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))?
                    .label(format!("L = {layers} ({seeds} seed{})", if seeds == 1 { "" } else { "s" }))
                    .legend(seg(col, 2));
                ch.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, col.filled())))?;
            }
            let (x0, x1) = (0.8, n as f64 * 1.25);
            ch.draw_series(dashed(vec![(x0, lo_line), (x1, lo_line)], GLOBAL, 2))?.label(lo_label).legend(seg(GLOBAL, 2));
            ch.draw_series(dashed(vec![(x0, hi_line), (x1, hi_line)], UNIGRAM, 2))?.label(hi_label).legend(seg(UNIGRAM, 2));
            legend(&mut ch, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}
