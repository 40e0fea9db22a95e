//! Figure `markov.train.memory-sweep` (spec markov §4, §5 F11 and F12): on the order-2 lagged chain,
//! the final loss and the predicted P̂(1 | x_{n−1} = 0) of the GPT-style model as the memory mask m
//! grows from 1 (only the lagged symbol and itself visible) to full causal attention, for depths 1, 4
//! and 8, from the lab's record; the monotonicity claims come from `claims::train::sweep`.

use attnlab_lab::markov::claims::train::sweep as claims;
use attnlab_lab::markov::experiments::train::TrainOutcome;
use attnlab_lab::markov::experiments::train::sweep::{self as experiment, Config, SweepData, estimate, final_loss};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{Glyph, layered_width, legend_row, panel, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito};
use crate::tidy::Tidy;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the sweep's record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let js = claims::judge(&rec);
    let (cfg, data) = (&rec.config, &rec.result);
    let n = cfg.base.seq_len;
    render(&SweepFig { cfg, data }, &ctx.out_dir, spec.id)?;
    let mut t = Tidy::default();
    for (&(layers, _), per_m) in cfg.depths.iter().zip(&data.outcomes) {
        let series = format!("L = {layers}");
        let at = |stat: Stat| {
            cfg.memories
                .iter()
                .zip(per_m)
                .filter_map(|(&m, os)| stat(os).map(|v| (cfg.m_value(m), v)))
                .collect::<Vec<_>>()
        };
        t.series(
            "F11",
            &series,
            "memory m (full = N)",
            "final held-out loss (nats), mean over seeds",
            None,
            at(final_loss),
        );
        t.series(
            "F12",
            &series,
            "memory m (full = N)",
            "P̂(xₙ₊₁ = 1 | xₙ₋₁ = 0), mean over occurrences and seeds",
            None,
            at(estimate),
        );
    }
    t.write(&ctx.out_dir, spec.id)?;
    let reduced =
        if n < 1024 { format!(" Smaller N than the reference's 1024 (N {n}; spec §7).") } else { String::new() };
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Order-2 lagged chain, p = 0.2, q = 0.3, GPT-style model (d {}, N {n}, {} iterations). Left (F11): final held-out \
             loss against the memory m (m + 1 visible tokens; 'full' drawn at m = N), mean over seeds, one line per depth; \
             dashed: H* (blue) and U (vermillion). Right (F12): the mean predicted P̂(xₙ₊₁ = 1 | xₙ₋₁ = 0) at the \
             first 100 occurrences in a held-out sequence; dashed: p = 0.2 (blue) and π1 = 0.4 (vermillion). Depths and \
             seeds: {}.{reduced}",
            cfg.base.d,
            cfg.base.iters,
            cfg.depths.iter().map(|(l, s)| format!("L = {l}, {s} seed(s)")).collect::<Vec<_>>().join("; ")
        ),
    })
}

/// A per-cell statistic over seeds.
type Stat = fn(&[TrainOutcome]) -> Option<f64>;
/// One panel: title, y label, statistic, the two reference lines and their labels.
type StatPanel<'a> = (&'a str, &'a str, Stat, f64, f64, (String, String));

struct SweepFig<'a> {
    cfg: &'a Config,
    data: &'a SweepData,
}

const COLORS: [RGBColor; 3] = [okabe_ito::BLACK, okabe_ito::ORANGE, okabe_ito::GREEN];

impl Figure for SweepFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1240, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        // The theory lines span the whole x range, so no corner of a panel is free: each panel's
        // legend is a row below it.
        let areas = root.split_evenly((1, 2));
        let n = self.cfg.base.seq_len;
        let Some(first) = self.data.outcomes.first().and_then(|d| d.first()).and_then(|m| m.first()) else {
            return Ok(());
        };
        let (h, u, pi1) = (first.entropy_rate, first.unigram_loss, first.pi1.unwrap_or(f64::NAN));
        let xr = || (0.8..n as f64 * 1.25).log_scale();
        let panels: [StatPanel<'_>; 2] = [
            (
                "F11: final loss vs memory m",
                "held-out loss (nats)",
                final_loss,
                h,
                u,
                (format!("H* = {h:.3}"), format!("U = {u:.3}")),
            ),
            (
                "F12: model's P(1 | xₙ₋₁ = 0) vs memory m",
                "predicted probability",
                estimate,
                0.2,
                pi1,
                ("p = 0.2".into(), format!("π₁ = {pi1:.3}")),
            ),
        ];
        for (area, (title, ydesc, stat, lo_line, hi_line, (lo_label, hi_label))) in areas.iter().zip(panels) {
            let (plot_area, key) = area.split_vertically(area.dim_in_pixel().1 - 72);
            let vals: Vec<f64> =
                self.data.outcomes.iter().flatten().filter_map(|os| stat(os)).chain([lo_line, hi_line]).collect();
            let (lo, hi) = vals.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            let pad = 0.1 * (hi - lo).max(0.02);
            let mut ch = panel(
                &plot_area,
                title,
                xr(),
                (lo - pad)..(hi + pad),
                "memory m (log scale; right-most = full attention)",
                ydesc,
            )?;
            let mut labels = Vec::new();
            for (k, (&(layers, seeds), per_m)) in self.cfg.depths.iter().zip(&self.data.outcomes).enumerate() {
                let col = COLORS[k % COLORS.len()];
                // Masked runs joined by a line; full attention (drawn at m = N) is a separate
                // point with no line to it, since no m between the largest mask and N was run.
                let at = |full: bool| -> Vec<(f64, f64)> {
                    self.cfg
                        .memories
                        .iter()
                        .zip(per_m)
                        .filter(|(m, _)| m.is_none() == full)
                        .filter_map(|(&m, os)| stat(os).map(|v| (self.cfg.m_value(m), v)))
                        .collect()
                };
                let (masked, full) = (at(false), at(true));
                let w = layered_width(k, self.cfg.depths.len());
                ch.draw_series(LineSeries::new(masked.clone(), col.stroke_width(w)))?;
                ch.draw_series(masked.iter().map(|&p| Circle::new(p, 2 + w as i32, col.filled())))?;
                ch.draw_series(
                    full.iter().map(|&p| EmptyElement::at(p) + Rectangle::new([(-5, -5), (5, 5)], col.filled())),
                )?;
                labels.push((
                    Glyph::Line(col, 2),
                    format!("L = {layers} ({seeds} seed{})", if seeds == 1 { "" } else { "s" }),
                ));
            }
            let (x0, x1) = (0.8, n as f64 * 1.25);
            let (lo_label, hi_label) = (format!("{lo_label} (theory)"), format!("{hi_label} (theory)"));
            theory_line(&mut ch, [(x0, lo_line), (x1, lo_line)], GLOBAL, 2, lo_label.clone())?;
            theory_line(&mut ch, [(x0, hi_line), (x1, hi_line)], UNIGRAM, 2, hi_label.clone())?;
            let full_label = format!("square: full attention, drawn at m = N = {n}");
            labels.push((Glyph::Patch(okabe_ito::GREY), full_label));
            labels.push((Glyph::Dashed(GLOBAL, 2), lo_label));
            labels.push((Glyph::Dashed(UNIGRAM, 2), hi_label));
            legend_row(&key, &labels.iter().map(|(g, l)| (*g, l.as_str())).collect::<Vec<_>>())?;
        }
        Ok(())
    }
}
