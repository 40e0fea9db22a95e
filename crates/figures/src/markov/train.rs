//! Figures of trained transformers (spec markov §5, F3–F7, F9, F10, F12, F15, F16 and the
//! theory-model contrast): evaluation-loss curves over seeds, per group of runs, with H* and U drawn;
//! a second row draws each group's Kaplan–Meier escape curve (the fraction of runs still on the
//! plateau at U, runs that end on it censored); for binary data a third row shows the trained model's P̂(1 | state 0) at the first 100
//! occurrences of state 0 in a held-out sequence (the paper's "est" panels). The runs and the claims
//! about them come from the lab (`experiments::train::curves`, `claims::train::curves`).

use attnlab_lab::markov::claims::train::curves as claims;
use attnlab_lab::markov::experiments::train::curves::{self as experiment, Config, CurvesData, Panel};
use attnlab_lab::markov::experiments::train::{TrainOutcome, is_lagged, true_p1_given_0};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{legend_auto, mean_t95, panel, runs_with_mean, seg, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito};
use crate::tidy::Tidy;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs one of the curve figures (`markov.train.{theory,tying,depth,memory,states}`): the groups'
/// record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab, spec.id)?;
    let js = claims::judge(&rec)?;
    render(&CurvesFig { cfg: &rec.config, data: &rec.result }, &ctx.out_dir, spec.id)?;
    tidy(&rec.config, &rec.result).write(&ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: "Top: loss on fresh held-out batches during training: each seed a thin line, the seeds' mean \
                  thick with its Student-t 95% band (n seeds, n − 1 degrees of freedom); one colour and marker per \
                  setting. Dashed: H* (blue) and U (vermillion), the theory. The claim for each setting is \
                  the proportion of its seeds whose run ends where the paper says (spec §6: final loss within \
                  0.01 nats of H* or U), with its Wilson 95% interval, against a majority (≥ 1/2); the \
                  statement lists each seed's spec §6 ending and its plateau at U. Middle: the Kaplan–Meier \
                  escape curve of each setting, the fraction of its runs still on the plateau (within 0.01 of \
                  U since first reaching it) at each iteration; a run still there at its end is censored (a \
                  curve that ends above 0 ends on censored runs). Bottom row (binary data): the trained model's \
                  P̂(xₙ₊₁ = 1 | state 0) at the first 100 occurrences of state 0 in one held-out sequence (the \
                  paper's 'est' panels), thin per seed, thick their mean with its t band; dashed: the chain's p (blue) and the unigram π1 \
                  (vermillion); judged on the mean over occurrences (±0.02, spec §6)."
            .to_string()
            + &spikes(&rec.config, &rec.result)
            + &format!(" Sizes: {}.", sizes(&rec.config)),
    })
}

/// What the figure draws, one row per point: each run's evaluation curve, each setting's escape
/// curve, each run's P̂ at the first occurrences of state 0, and the theory lines H*, U (and p, π1).
fn tidy(cfg: &Config, data: &CurvesData) -> Tidy {
    let mut t = Tidy::default();
    for (p, outs) in cfg.panels.iter().zip(&data.outcomes) {
        for (g, os) in p.groups.iter().zip(outs) {
            for o in os {
                let seed = Some(o.config.seed);
                t.series(&p.title, &g.label, "iteration", "held-out loss (nats)", seed, o.curve.iter().map(|e| (e.iter as f64, e.loss)));
                t.series(&p.title, &g.label, "occurrence of state 0", "P̂(x_{n+1} = 1 | state 0)", seed, o.occurrences.iter().enumerate().map(|(i, &v)| (i as f64 + 1.0, v)));
            }
            t.series(&p.title, &g.label, "iteration", "fraction of runs on the plateau at U (Kaplan–Meier)", None, claims::escape_curve(os));
        }
        if let Some(o) = outs.iter().flatten().next() {
            let end = o.config.iters as f64;
            t.series(&p.title, "H* (theory)", "iteration", "held-out loss (nats)", None, [(0.0, o.entropy_rate), (end, o.entropy_rate)]);
            t.series(&p.title, "U (theory)", "iteration", "held-out loss (nats)", None, [(0.0, o.unigram_loss), (end, o.unigram_loss)]);
        }
    }
    t
}

/// Transient spikes, in words: every evaluation after the first 10% of iterations where a seed's
/// loss is more than 0.05 nats above both its neighbouring evaluations (a one-evaluation
/// excursion, not a run that stays on a plateau; a rule fixed before the paper-scale figures were
/// read, so that a caption never leaves a visible spike unexplained), or "" when there is none.
fn spikes(cfg: &Config, data: &CurvesData) -> String {
    let mut found = Vec::new();
    for (p, outs) in cfg.panels.iter().zip(&data.outcomes) {
        for (g, os) in p.groups.iter().zip(outs) {
            for o in os {
                let start = 0.1 * o.config.iters as f64;
                let worst = o
                    .curve
                    .windows(3)
                    .filter(|w| w[1].iter as f64 >= start && w[1].loss.is_finite() && w[1].loss > w[0].loss.max(w[2].loss) + 0.05)
                    .max_by(|a, b| a[1].loss.total_cmp(&b[1].loss));
                if let Some(w) = worst {
                    found.push(format!("{} — {}, seed {}: loss {:.3} at iteration {}", p.title, g.label, o.config.seed, w[1].loss, w[1].iter));
                }
            }
        }
    }
    if found.is_empty() {
        String::new()
    } else {
        format!(
            " Transient spikes (one evaluation more than 0.05 nats above both its neighbours, after the first 10% of \
             iterations; drawn as recorded, the run's final loss is what the claims judge): {}.",
            found.join("; ")
        )
    }
}

/// The sizes every group ran at, in words: "tied (gpt, d 8, L 1, N 1024, B 16, 400 iterations, 5 seeds); …".
fn sizes(cfg: &Config) -> String {
    let mut out: Vec<String> = Vec::new();
    for p in &cfg.panels {
        for g in &p.groups {
            if let Some(c) = g.runs.first() {
                out.push(format!(
                    "{} — {} ({}, d {}, L {}, N {}, B {}, {} iterations, {} seed{})",
                    p.title,
                    g.label,
                    c.arch.name(),
                    c.d,
                    c.layers,
                    c.seq_len,
                    c.batch,
                    c.iters,
                    g.runs.len(),
                    if g.runs.len() == 1 { "" } else { "s" }
                ));
            }
        }
    }
    out.join("; ")
}

struct CurvesFig<'a> {
    cfg: &'a Config,
    data: &'a CurvesData,
}

const COLORS: [RGBColor; 5] = [okabe_ito::BLACK, okabe_ito::ORANGE, okabe_ito::GREEN, okabe_ito::PURPLE, okabe_ito::SKY];

impl CurvesFig<'_> {
    /// Whether the figure has the P̂(1 | state 0) row (binary data).
    fn has_estimates(&self) -> bool {
        self.data.outcomes.iter().flatten().flatten().any(|o| !o.occurrences.is_empty())
    }
}

impl Figure for CurvesFig<'_> {
    fn size(&self) -> (u32, u32) {
        // At most two settings side by side (a figure fits a 1600 px screen); more wrap below.
        let n = self.cfg.panels.len() as u32;
        let cols = n.clamp(1, 2);
        (660 * cols, n.div_ceil(cols) * if self.has_estimates() { 1300 } else { 900 })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.cfg.panels.len();
        let rows = if self.has_estimates() { 3 } else { 2 };
        let cols = n.clamp(1, 2);
        let areas = root.split_evenly((rows * n.div_ceil(cols), cols));
        let at = |k: usize, row: usize| &areas[((k / cols) * rows + row) * cols + k % cols];
        for ((p, outs), k) in self.cfg.panels.iter().zip(&self.data.outcomes).zip(0..) {
            let area = at(k, 0);
            let first = &outs[0][0];
            let (h, u) = (first.entropy_rate, first.unigram_loss);
            let iters = outs.iter().flatten().map(|o| o.config.iters).max().unwrap_or(1) as f64;
            // Every recorded loss is inside the axes, the starting loss included.
            let (lo_data, hi_data) = outs
                .iter()
                .flatten()
                .flat_map(|o| o.curve.iter().map(|e| e.loss))
                .filter(|x| x.is_finite())
                .fold((h, u), |(a, b), x| (a.min(x), b.max(x)));
            let span = (hi_data - lo_data).max(0.01);
            // Headroom above the data for the legend (the curves start high on the left, so the
            // upper right is where it fits).
            let mut ch = panel(area, &p.title, 0.0..iters, (lo_data - 0.04 * span)..(hi_data + 0.7 * span), "iteration", "held-out loss (nats)")?;
            let mut lines = Vec::new();
            let mut labels = Vec::new();
            for (k, (g, os)) in p.groups.iter().zip(outs).enumerate() {
                let col = COLORS[k % COLORS.len()];
                let runs: Vec<Vec<(f64, f64)>> = os.iter().map(|o| o.curve.iter().map(|e| (e.iter as f64, e.loss)).collect()).collect();
                let label = if os.len() > 1 { format!("{}: mean of {} seeds, 95% t band", g.label, os.len()) } else { format!("{} (1 seed)", g.label) };
                runs_with_mean(&mut ch, &runs, col, &label)?;
                markers(&mut ch, &mean_t95(&runs).iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(), k, col)?;
                labels.push(label);
                lines.extend(runs);
            }
            let hl = format!("H* = {h:.3} (theory)");
            let ul = format!("U = {u:.3} (theory)");
            theory_line(&mut ch, [(0.0, h), (iters, h)], GLOBAL, 2, hl.clone())?;
            theory_line(&mut ch, [(0.0, u), (iters, u)], UNIGRAM, 2, ul.clone())?;
            lines.push(vec![(0.0, h), (iters, h)]);
            lines.push(vec![(0.0, u), (iters, u)]);
            labels.push(hl);
            labels.push(ul);
            legend_auto(&mut ch, &lines, &labels.iter().map(String::as_str).collect::<Vec<_>>())?;
            self.draw_escape(at(k, 1), p, outs, iters)?;
            if rows == 3 {
                self.draw_estimates(at(k, 2), p, outs)?;
            }
        }
        Ok(())
    }
}

impl CurvesFig<'_> {
    /// The escape panel: per group, the Kaplan–Meier fraction of runs still on the plateau at U.
    fn draw_escape<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, p: &Panel, outs: &[Vec<TrainOutcome>], iters: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        // Headroom above 1 keeps the legend off the curves, which start at 1.
        let mut ch = panel(area, "escape from the plateau at U (Kaplan–Meier)", 0.0..iters, -0.02..1.45, "iteration", "fraction of runs still on the plateau")?;
        let mut lines = Vec::new();
        let mut labels = Vec::new();
        for (k, (g, os)) in p.groups.iter().zip(outs).enumerate() {
            let col = COLORS[k % COLORS.len()];
            let curve: Vec<(f64, f64)> = claims::escape_curve(os).into_iter().collect();
            let label = format!("{} ({} runs)", g.label, os.len());
            ch.draw_series(LineSeries::new(curve.clone(), col.stroke_width(3)))?.label(label.clone()).legend(seg(col, 3));
            markers(&mut ch, &curve, k, col)?;
            lines.push(curve);
            labels.push(label);
        }
        legend_auto(&mut ch, &lines, &labels.iter().map(String::as_str).collect::<Vec<_>>())?;
        Ok(())
    }

    /// The "est" panel: P̂(1 | state 0) at the first occurrences of state 0, with p and π1 dashed.
    fn draw_estimates<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, p: &Panel, outs: &[Vec<TrainOutcome>]) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let first = &outs[0][0];
        let (Some(truth), Some(pi1)) = (true_p1_given_0(&first.config), first.pi1) else { return Ok(()) };
        let len = outs.iter().flatten().map(|o| o.occurrences.len()).max().unwrap_or(1).max(2) as f64;
        let (lo, hi) = outs
            .iter()
            .flatten()
            .flat_map(|o| o.occurrences.iter().copied())
            .chain([truth, pi1])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        let pad = 0.1 * (hi - lo).max(0.05);
        // Headroom above the data for the legend.
        let hi = hi + 3.0 * pad;
        let cond = if is_lagged(&first.config) { "xₙ₋ₖ₊₁" } else { "xₙ" };
        let mut ch = panel(
            area,
            &format!("model's P(xₙ₊₁ = 1 | {cond} = 0), held-out sequence"),
            1.0..len,
            (lo - pad)..(hi + pad),
            "occurrence of state 0",
            "predicted probability",
        )?;
        let mut lines = Vec::new();
        let mut labels = Vec::new();
        for (k, (g, os)) in p.groups.iter().zip(outs).enumerate() {
            let col = COLORS[k % COLORS.len()];
            let runs: Vec<Vec<(f64, f64)>> = os.iter().map(|o| o.occurrences.iter().enumerate().map(|(i, &v)| (i as f64 + 1.0, v)).collect()).collect();
            let label = if os.len() > 1 { format!("{}: mean of {} seeds, 95% t band", g.label, os.len()) } else { g.label.clone() };
            runs_with_mean(&mut ch, &runs, col, &label)?;
            labels.push(label);
            lines.extend(runs);
        }
        let pl = format!("p = {truth} (truth)");
        let il = format!("π₁ = {pi1:.3} (unigram)");
        theory_line(&mut ch, [(1.0, truth), (len, truth)], GLOBAL, 2, pl.clone())?;
        theory_line(&mut ch, [(1.0, pi1), (len, pi1)], UNIGRAM, 2, il.clone())?;
        lines.push(vec![(1.0, truth), (len, truth)]);
        lines.push(vec![(1.0, pi1), (len, pi1)]);
        labels.push(pl);
        labels.push(il);
        legend_auto(&mut ch, &lines, &labels.iter().map(String::as_str).collect::<Vec<_>>())?;
        Ok(())
    }
}

/// Marks a group's line with its own marker shape (circle, square, triangle, cross, diamond) at
/// about 8 points, offset per group, so overlapping lines stay apart in print and for colour-blind
/// readers.
fn markers<DB: DrawingBackend>(ch: &mut crate::plot::Chart<'_, DB>, line: &[(f64, f64)], k: usize, col: RGBColor) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if line.len() < 2 {
        return Ok(());
    }
    let step = (line.len() / 8).max(1);
    let offset = (k * step / 5).min(line.len() - 1);
    let pts: Vec<(f64, f64)> = line.iter().skip(offset).step_by(step).copied().filter(|p| p.1.is_finite()).collect();
    let style = col.filled();
    match k % 5 {
        0 => ch.draw_series(pts.iter().map(|&p| Circle::new(p, 4, style)))?,
        1 => ch.draw_series(pts.iter().map(|&p| EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], style)))?,
        2 => ch.draw_series(pts.iter().map(|&p| TriangleMarker::new(p, 5, style)))?,
        3 => ch.draw_series(pts.iter().map(|&p| Cross::new(p, 4, col.stroke_width(2))))?,
        _ => ch.draw_series(pts.iter().map(|&p| EmptyElement::at(p) + Polygon::new(vec![(0, -5), (5, 0), (0, 5), (-5, 0)], style)))?,
    };
    Ok(())
}
