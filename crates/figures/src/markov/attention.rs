//! Figure `markov.train.attention` (spec markov §5 F13, F14; §3 "attention at convergence"): in the
//! trained 1-layer theory model the attention output becomes negligible next to the skip connection
//! (‖Attn out‖/‖x + Attn out‖ → 0) and its pattern is uniform over the prefix (row n ≈ 1/n). Record
//! and claims from the lab.

use attnlab_lab::markov::claims::train::attention::{self as claims, F13_ITERS};
use attnlab_lab::markov::experiments::train::attention::{self as experiment, AttentionData, ratio_curve};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{colorbar, heatmap, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::{okabe_ito, viridis};
use crate::tidy::Tidy;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the probes' record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let js = claims::judge(&rec);
    let data = &rec.result;
    let side = data.outcomes.first().and_then(|o| o.attention.as_ref().map(Vec::len)).unwrap_or(0);
    render(&AttentionFig { data }, &ctx.out_dir, spec.id)?;
    let mut t = Tidy::default();
    for o in &data.outcomes {
        t.series("F13", &format!("seed {}", o.config.seed), "iteration", "‖Attn out‖ / ‖x + Attn out‖", Some(o.config.seed), ratio_curve(o));
    }
    if let Some((o, att)) = data.outcomes.first().and_then(|o| o.attention.as_ref().map(|a| (o, a))) {
        for (n, row) in att.iter().enumerate() {
            t.series("F14", &format!("query n = {n}"), "key i", "attention weight", Some(o.config.seed), row.iter().enumerate().take(n + 1).map(|(i, &w)| (i as f64, w)));
        }
    }
    t.write(&ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Left (F13): ‖Attn out‖/‖x + Attn out‖ of the trained theory model, averaged over positions and held-out \
             batches, one line per seed; the grey line marks iteration {F13_ITERS}, where the reference's panel ends. \
             Right (F14): the first {side}×{side} of the attention matrix of seed 1 after training, on one held-out \
             sequence (row = query n, column = key i ≤ n; white = masked). Theory: the ratio decays towards 0 and row n \
             is uniform, 1/n. Sizes: theory model (§2a), tied, p = 0.2, q = 0.3, d {}, N {}, B {}, {} iterations, {} seeds.",
            rec.config.runs.first().map_or(0, |c| c.d),
            rec.config.runs.first().map_or(0, |c| c.seq_len),
            rec.config.runs.first().map_or(0, |c| c.batch),
            rec.config.runs.first().map_or(0, |c| c.iters),
            rec.config.runs.len(),
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
