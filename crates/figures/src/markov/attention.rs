//! Figure `markov.train.attention` (spec markov §5 F13, F14; §3 "attention at convergence"): in the
//! trained 1-layer theory model the attention output becomes negligible next to the skip connection
//! (‖Attn out‖/‖x + Attn out‖ → 0) and its pattern is uniform over the prefix (row n ≈ 1/n). Record
//! and claims from the lab.

use attnlab_lab::markov::claims::train::attention::{self as claims, F13_ITERS};
use attnlab_lab::markov::experiments::train::attention::{self as experiment, AttentionData, ratio_curve};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::paths::style::diverging;
use crate::plot::{colorbar, heatmap, legend_auto, panel, seg, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
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
        t.series(
            "F13",
            &format!("seed {}", o.config.seed),
            "iteration",
            "‖Attn out‖ / ‖x + Attn out‖",
            Some(o.config.seed),
            ratio_curve(o),
        );
    }
    if let Some((o, att)) = data.outcomes.first().and_then(|o| o.attention.as_ref().map(|a| (o, a))) {
        for (n, row) in att.iter().enumerate() {
            t.series(
                "F14",
                &format!("query n = {n}"),
                "key i",
                "attention weight",
                Some(o.config.seed),
                row.iter().enumerate().take(n + 1).map(|(i, &w)| (i as f64, w)),
            );
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
             Middle (F14): the first {side}×{side} of the attention matrix of the first seed after training, on one held-out \
             sequence, as n × weight (row = query n, column = key i ≤ n; masked cells are blank): white = 1 is \
             the uniform 1/n of the theory, red below it, blue above. Right: per query n, the range (min to max over its keys) \
             of n × weight, with the uniform row (1) dashed. Theory: the ratio decays towards 0 and row n is uniform, 1/n. Sizes: theory model (§2a), tied, p = 0.2, q = 0.3, d {}, N {}, B {}, {} iterations, {} seeds.",
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

const COLORS: [RGBColor; 5] =
    [okabe_ito::BLACK, okabe_ito::ORANGE, okabe_ito::GREEN, okabe_ito::PURPLE, okabe_ito::SKY];

impl Figure for AttentionFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 540)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (left, rest) = root.split_horizontally(560);
        let (map_area, rest) = rest.split_horizontally(470);
        let (bar, profile) = rest.split_horizontally(110);
        let os = &self.data.outcomes;
        let iters = os.iter().map(|o| o.config.iters).max().unwrap_or(1) as f64;
        let top = os.iter().flat_map(ratio_curve).map(|p| p.1).fold(0.01, f64::max) * 1.1;
        let mut ch = panel(
            &left,
            "F13: attention output / residual stream",
            0.0..iters,
            0.0..top,
            "iteration",
            "‖Attn out‖ / ‖x + Attn out‖",
        )?;
        let mut lines = Vec::new();
        let mut labels = Vec::new();
        for (s, o) in os.iter().enumerate() {
            let col = COLORS[s % COLORS.len()];
            let curve: Vec<(f64, f64)> = ratio_curve(o).into_iter().collect();
            ch.draw_series(LineSeries::new(curve.clone(), col.stroke_width(2)))?
                .label(format!("seed {}", o.config.seed))
                .legend(seg(col, 2));
            labels.push(format!("seed {}", o.config.seed));
            lines.push(curve);
        }
        let x = F13_ITERS as f64;
        ch.draw_series(LineSeries::new(vec![(x, 0.0), (x, top)], okabe_ito::GREY.stroke_width(1)))?;
        lines.push(vec![(x, 0.0), (x, top)]);
        legend_auto(&mut ch, &lines, &labels.iter().map(String::as_str).collect::<Vec<_>>())?;
        let Some((o, att)) = os.first().and_then(|o| o.attention.as_ref().map(|a| (o, a))) else { return Ok(()) };
        let n = att.len();
        // Colour: n × weight, so a uniform row (weight 1/n) is white at every n and a departure
        // from 1/n shows as well in row 30 as in row 2.
        let idx: Vec<f64> = (1..=n).map(|i| i as f64).collect();
        let mut ch = panel(
            &map_area,
            &format!("F14: n × attention weight (seed {})", o.config.seed),
            0.5..n as f64 + 0.5,
            0.5..n as f64 + 0.5,
            "key i",
            "query n",
        )?;
        // Colour: n × weight around the uniform 1, over ± the largest deviation shown (at least
        // 0.05, rounded up to 0.05), so small departures from 1/n are visible and the bar says how small.
        let dev = (0..n)
            .flat_map(|j| (0..=j).map(move |i| (j, i)))
            .map(|(j, i)| (att[j][i] * (j + 1) as f64 - 1.0).abs())
            .fold(0.05f64, f64::max);
        let lim = (dev / 0.05).ceil() * 0.05;
        heatmap(
            &mut ch,
            &idx,
            &idx,
            |i, j| if i > j { WHITE } else { diverging(att[j][i] * (j + 1) as f64 - 1.0, lim) },
        )?;
        colorbar(&bar, 1.0 - lim, 1.0 + lim, "n × weight (1 = uniform, 1/n)", |t| {
            diverging((2.0 * t - 1.0) * lim, lim)
        })?;
        // Row profile: each query's weights, scaled by n (min to max over its keys), against the
        // theory's uniform row, n × 1/n = 1.
        let rows: Vec<(f64, f64, f64)> = att
            .iter()
            .enumerate()
            .map(|(j, r)| {
                let ws = &r[..=j];
                let k = (j + 1) as f64;
                (k * ws.iter().copied().fold(f64::INFINITY, f64::min), k * ws.iter().copied().fold(0.0, f64::max), k)
            })
            .collect();
        let (lo, hi) = rows.iter().fold((0.9f64, 1.1f64), |(a, b), r| (a.min(r.0), b.max(r.1)));
        let pad = 0.08 * (hi - lo);
        let mut ch = panel(
            &profile,
            "F14 rows: n × weights of query n",
            0.0..n as f64 + 1.0,
            (lo - pad)..(hi + 2.5 * pad),
            "query n",
            "n × attention weight",
        )?;
        let bars: Vec<Vec<(f64, f64)>> = rows.iter().map(|&(a, b, x)| vec![(x, a), (x, b)]).collect();
        ch.draw_series(bars.iter().map(|b| PathElement::new(b.clone(), okabe_ito::BLACK.stroke_width(3))))?
            .label("row's min to max over keys (trained)")
            .legend(seg(okabe_ito::BLACK, 3));
        let uniform = vec![(0.0, 1.0), (n as f64 + 1.0, 1.0)];
        theory_line(&mut ch, uniform.clone(), okabe_ito::VERMILLION, 2, "uniform row, 1/n (theory)")?;
        let mut lines = bars;
        lines.push(uniform);
        legend_auto(&mut ch, &lines, &["row's min to max over keys (trained)", "uniform row, 1/n (theory)"])?;
        Ok(())
    }
}
