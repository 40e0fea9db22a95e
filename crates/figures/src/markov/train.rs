//! Figures of trained transformers (spec markov §5, F3–F7, F9, F10, F12, F15, F16 and the
//! theory-model contrast): evaluation-loss curves over seeds, per group of runs, with H* and U drawn;
//! a second row draws each group's Kaplan–Meier escape curve (the fraction of runs still on the
//! plateau at U, runs that end on it censored); for binary data a third row shows the trained model's P̂(1 | state 0) at the first 100
//! occurrences of state 0 in a held-out sequence (the paper's "est" panels). The runs and the claims
//! about them come from the lab (`experiments::train::curves`, `claims::train::curves`).

use attnlab_lab::markov::claims::train::curves as claims;
use attnlab_lab::markov::experiments::train::curves::{self as experiment, Config, CurvesData, Panel};
use attnlab_lab::markov::experiments::train::{TrainOutcome, lag_order, true_p1_given_0};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{
    Glyph, layered_width, legend_row, mean_t95, panel, runs_with_mean, runs_with_mean_extent, theory_line,
};
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
                t.series(
                    &p.title,
                    &g.label,
                    "iteration",
                    "held-out loss (nats)",
                    seed,
                    o.curve.iter().map(|e| (e.iter as f64, e.loss)),
                );
                t.series(
                    &p.title,
                    &g.label,
                    "occurrence of state 0",
                    "P̂(xₙ₊₁ = 1 | state 0)",
                    seed,
                    o.occurrences.iter().enumerate().map(|(i, &v)| (i as f64 + 1.0, v)),
                );
            }
            for st in claims::escape_curve(os).steps {
                t.push(crate::tidy::Point {
                    panel: p.title.clone(),
                    series: g.label.clone(),
                    x_name: "iterations since entering the plateau at U".into(),
                    x: st.t,
                    y_name: "fraction of runs still on the plateau (Kaplan–Meier, 95% Greenwood log-log band)".into(),
                    y: st.survival,
                    interval: Some([st.lo, st.hi]),
                    seed: None,
                });
            }
        }
        if let Some(o) = outs.iter().flatten().next() {
            let end = o.config.iters as f64;
            t.series(
                &p.title,
                "H* (theory)",
                "iteration",
                "held-out loss (nats)",
                None,
                [(0.0, o.entropy_rate), (end, o.entropy_rate)],
            );
            t.series(
                &p.title,
                "U (theory)",
                "iteration",
                "held-out loss (nats)",
                None,
                [(0.0, o.unigram_loss), (end, o.unigram_loss)],
            );
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
                    .filter(|w| {
                        w[1].iter as f64 >= start
                            && w[1].loss.is_finite()
                            && w[1].loss > w[0].loss.max(w[2].loss) + 0.05
                    })
                    .max_by(|a, b| a[1].loss.total_cmp(&b[1].loss));
                if let Some(w) = worst {
                    found.push(format!(
                        "{} — {}, seed {}: loss {:.3} at iteration {}",
                        p.title, g.label, o.config.seed, w[1].loss, w[1].iter
                    ));
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

const COLORS: [RGBColor; 5] =
    [okabe_ito::BLACK, okabe_ito::ORANGE, okabe_ito::GREEN, okabe_ito::PURPLE, okabe_ito::SKY];

impl CurvesFig<'_> {
    /// The legend entries of setting `k` (its groups, then the two theory references), drawn in a
    /// row under its panels.
    fn entries(&self, k: usize) -> Vec<(Glyph, String)> {
        let (p, outs) = (&self.cfg.panels[k], &self.data.outcomes[k]);
        let mut entries: Vec<(Glyph, String)> = p
            .groups
            .iter()
            .zip(outs)
            .enumerate()
            .map(|(k, (g, os))| {
                // With more groups than MAX_BANDED_GROUPS the P̂ panel has no bands (`draw_estimates`).
                let bands = if outs.len() > MAX_BANDED_GROUPS && self.has_estimates() {
                    "95% t band in the loss panel"
                } else {
                    "95% t band"
                };
                let label = if os.len() > 1 {
                    format!("{}: {} seeds, mean and {bands}", g.label, os.len())
                } else {
                    format!("{} (1 seed)", g.label)
                };
                (Glyph::Marked(COLORS[k % COLORS.len()], 3, k), label)
            })
            .collect();
        let first = &outs[0][0];
        let (h, u) = (first.entropy_rate, first.unigram_loss);
        let est = (self.has_estimates()).then(|| true_p1_given_0(&first.config).zip(first.pi1)).flatten();
        let (gl, ul) = match est {
            Some((truth, pi1)) => (
                format!("theory: H* = {h:.3}; p = {truth} (bottom)"),
                format!("theory: U = {u:.3}; π₁ = {pi1:.3} (bottom)"),
            ),
            None => (format!("theory: H* = {h:.3}"), format!("theory: U = {u:.3}")),
        };
        entries.push((Glyph::Dashed(GLOBAL, 2), gl));
        entries.push((Glyph::Dashed(UNIGRAM, 2), ul));
        entries
    }

    /// Height of the legend rows under each setting's panels: the most any setting needs.
    fn key_h(&self) -> u32 {
        (0..self.cfg.panels.len())
            .map(|k| {
                crate::plot::legend_row_height(660, &self.entries(k).iter().map(|e| e.1.as_str()).collect::<Vec<_>>())
            })
            .max()
            .unwrap_or(40)
    }

    /// Whether the figure has the P̂(1 | state 0) row (binary data).
    fn has_estimates(&self) -> bool {
        self.data.outcomes.iter().flatten().flatten().any(|o| !o.occurrences.is_empty())
    }
}

/// The most groups whose t bands the P̂ panel draws.
const MAX_BANDED_GROUPS: usize = 2;

impl Figure for CurvesFig<'_> {
    fn size(&self) -> (u32, u32) {
        // At most two settings side by side (a figure fits a 1600 px screen); more wrap below.
        let n = self.cfg.panels.len() as u32;
        let cols = n.clamp(1, 2);
        (660 * cols, n.div_ceil(cols) * (if self.has_estimates() { 1300 } else { 900 } + self.key_h()))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.cfg.panels.len();
        let rows = if self.has_estimates() { 3 } else { 2 };
        let cols = n.clamp(1, 2);
        let blocks = root.split_evenly((n.div_ceil(cols), cols));
        for (k, ((p, outs), block)) in self.cfg.panels.iter().zip(&self.data.outcomes).zip(&blocks).enumerate() {
            // Each setting: its panels, then one legend row for all of them (outside the data).
            let (panels_area, key) = block.split_vertically(block.dim_in_pixel().1 - self.key_h());
            let areas = panels_area.split_evenly((rows, 1));
            let first = &outs[0][0];
            let (h, u) = (first.entropy_rate, first.unigram_loss);
            let iters = outs.iter().flatten().map(|o| o.config.iters).max().unwrap_or(1) as f64;
            // Every recorded loss and every drawn band is inside the axes, the starting loss included.
            let runs_of = |os: &[TrainOutcome]| -> Vec<Vec<(f64, f64)>> {
                os.iter().map(|o| o.curve.iter().map(|e| (e.iter as f64, e.loss)).collect()).collect()
            };
            let all = Some((f64::NEG_INFINITY, f64::INFINITY));
            let (lo_data, hi_data) = outs
                .iter()
                .flat_map(|os| runs_with_mean_extent(&runs_of(os), all))
                .filter(|x| x.is_finite())
                .fold((h, u), |(a, b), x| (a.min(x), b.max(x)));
            let span = (hi_data - lo_data).max(0.01);
            let mut ch = panel(
                &areas[0],
                &p.title,
                0.0..iters,
                (lo_data - 0.04 * span)..(hi_data + 0.04 * span),
                "iteration",
                "held-out loss (nats)",
            )?;
            let ng = p.groups.len();
            for (k, os) in outs.iter().enumerate() {
                let col = COLORS[k % COLORS.len()];
                let runs = runs_of(os);
                runs_with_mean(&mut ch, &runs, col, layered_width(k, ng), all, "")?;
                markers(&mut ch, &mean_t95(&runs).iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(), k, col)?;
            }
            theory_line(&mut ch, [(0.0, h), (iters, h)], GLOBAL, 2, "H*")?;
            theory_line(&mut ch, [(0.0, u), (iters, u)], UNIGRAM, 2, "U")?;
            self.draw_escape(&areas[1], p, outs, iters)?;
            if rows == 3 {
                self.draw_estimates(&areas[2], p, outs)?;
            }
            let entries = self.entries(k);
            legend_row(&key, &entries.iter().map(|(g, l)| (*g, l.as_str())).collect::<Vec<_>>())?;
        }
        Ok(())
    }
}

impl CurvesFig<'_> {
    /// The escape panel: per group, the Kaplan–Meier fraction of runs still on the plateau at U.
    fn draw_escape<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        p: &Panel,
        outs: &[Vec<TrainOutcome>],
        iters: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let curves: Vec<claims::EscapeCurve> = outs.iter().map(|os| claims::escape_curve(os)).collect();
        let apart: Vec<String> = p
            .groups
            .iter()
            .zip(&curves)
            .filter(|(_, c)| c.never_entered > 0)
            .map(|(g, c)| format!("{} {}/{}", g.label, c.never_entered, c.never_entered + c.entered))
            .collect();
        let title = if apart.is_empty() {
            "escape from the plateau at U (Kaplan–Meier, 95% Greenwood band)".to_string()
        } else {
            format!("escape from the plateau at U (Kaplan–Meier, 95% band); never entered: {}", apart.join(", "))
        };
        let ng = p.groups.len();
        // Below the curves, one row per group: the numbers at risk at five times.
        let row_h = 0.07;
        let bottom = -0.06 - row_h * ng as f64;
        let mut ch = panel(
            area,
            &title,
            0.0..iters,
            bottom..1.03,
            "iterations since entering the plateau (numbers at risk below, one row per group)",
            "fraction still on it",
        )?;
        for (k, c) in curves.iter().enumerate() {
            let col = COLORS[k % COLORS.len()];
            let y = -0.06 - row_h * (k as f64 + 0.5);
            for i in 0..5 {
                let t = iters * i as f64 / 5.0;
                ch.draw_series(std::iter::once(Text::new(
                    format!("{}", c.at_risk(t)),
                    (t + iters * 0.01, y),
                    (crate::style::FONT, 11).into_font().color(&col),
                )))?;
            }
        }
        for (k, c) in curves.iter().enumerate() {
            let col = COLORS[k % COLORS.len()];
            if c.entered == 0 {
                continue;
            }
            let mut band: Vec<(f64, f64)> = c.steps.iter().map(|s| (s.t, s.hi)).collect();
            band.extend(c.steps.iter().rev().map(|s| (s.t, s.lo)));
            ch.draw_series(std::iter::once(Polygon::new(band, col.mix(0.15).filled())))?;
            let curve: Vec<(f64, f64)> = c.steps.iter().map(|s| (s.t, s.survival)).collect();
            ch.draw_series(LineSeries::new(curve.clone(), col.stroke_width(layered_width(k, ng))))?;
            markers(&mut ch, &curve, k, col)?;
        }
        Ok(())
    }

    /// The "est" panel: P̂(1 | state 0) at the first occurrences of state 0, with p and π1 dashed.
    fn draw_estimates<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        p: &Panel,
        outs: &[Vec<TrainOutcome>],
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let first = &outs[0][0];
        let (Some(truth), Some(pi1)) = (true_p1_given_0(&first.config), first.pi1) else { return Ok(()) };
        let len = outs.iter().flatten().map(|o| o.occurrences.len()).max().unwrap_or(1).max(2) as f64;
        let runs_of = |os: &[TrainOutcome]| -> Vec<Vec<(f64, f64)>> {
            os.iter().map(|o| o.occurrences.iter().enumerate().map(|(i, &v)| (i as f64 + 1.0, v)).collect()).collect()
        };
        // More than MAX_BANDED_GROUPS groups' t bands (3 seeds: t₂ = 4.3) pile up into an
        // unreadable mix: then each group is drawn as its runs and their mean, without the band.
        let clip = (outs.len() <= MAX_BANDED_GROUPS).then_some((0.0, 1.0));
        // The range holds every run, the drawn bands (clipped to [0, 1]) and both references.
        let (lo, hi) = outs
            .iter()
            .flat_map(|os| runs_with_mean_extent(&runs_of(os), clip))
            .chain([truth, pi1])
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        let pad = 0.05 * (hi - lo).max(0.05);
        // The lagged order-k chain's next symbol depends on x_{n−k+1}: written out for its k.
        let cond = lagged_symbol(lag_order(&first.config).unwrap_or(1));
        let mut ch = panel(
            area,
            &format!("model's P(xₙ₊₁ = 1 | {cond} = 0), held-out sequence"),
            1.0..len,
            (lo - pad)..(hi + pad),
            "occurrence of state 0",
            "predicted probability",
        )?;
        let ng = p.groups.len();
        for (k, (g, os)) in p.groups.iter().zip(outs).enumerate() {
            let col = COLORS[k % COLORS.len()];
            runs_with_mean(&mut ch, &runs_of(os), col, layered_width(k, ng), clip, &g.label)?;
        }
        theory_line(&mut ch, [(1.0, truth), (len, truth)], GLOBAL, 2, "p")?;
        theory_line(&mut ch, [(1.0, pi1), (len, pi1)], UNIGRAM, 2, "π₁")?;
        Ok(())
    }
}

/// Marks a group's line with its own marker shape (circle, square, triangle, cross, diamond) at
/// about 8 points, offset per group, so overlapping lines stay apart in print and for colour-blind
/// readers.
fn markers<DB: DrawingBackend>(
    ch: &mut crate::plot::Chart<'_, DB>,
    line: &[(f64, f64)],
    k: usize,
    col: RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if line.len() < 2 {
        return Ok(());
    }
    let step = (line.len() / 8).max(1);
    let offset = (k * step / 5).min(line.len() - 1);
    // The shapes of `plot::marker_shape`, the legend's keys.
    let pts: Vec<(f64, f64)> = line.iter().skip(offset).step_by(step).copied().filter(|p| p.1.is_finite()).collect();
    let style = col.filled();
    match k % 5 {
        0 => ch.draw_series(pts.iter().map(|&p| Circle::new(p, 4, style)))?,
        1 => ch.draw_series(pts.iter().map(|&p| EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], style)))?,
        2 => ch.draw_series(pts.iter().map(|&p| TriangleMarker::new(p, 5, style)))?,
        3 => ch.draw_series(pts.iter().map(|&p| Cross::new(p, 4, col.stroke_width(2))))?,
        _ => ch.draw_series(
            pts.iter().map(|&p| EmptyElement::at(p) + Polygon::new(vec![(0, -5), (5, 0), (0, 5), (-5, 0)], style)),
        )?,
    };
    Ok(())
}

/// x_{n−k+1} with Unicode subscripts (xₙ for k = 1, xₙ₋₁ for k = 2, …).
fn lagged_symbol(k: usize) -> String {
    const SUB: [char; 10] = ['₀', '₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'];
    if k <= 1 {
        return "xₙ".into();
    }
    let lag: String = (k - 1).to_string().chars().map(|c| SUB[c.to_digit(10).unwrap_or(0) as usize]).collect();
    format!("xₙ₋{lag}")
}
