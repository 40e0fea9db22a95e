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

use crate::plot::{dashed, legend, panel, seg};
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
        caption: "Top: loss on fresh held-out batches during training, one thin line per seed, one colour per \
                  setting. Dashed: H* (blue) and U (vermillion), the theory. The claim for each setting is \
                  the proportion of its seeds whose run ends where the paper says (spec §6: final loss within \
                  0.01 nats of H* or U), with its Wilson 95% interval, against a majority (≥ 1/2); the \
                  statement lists each seed's spec §6 ending and its plateau at U. Middle: the Kaplan–Meier \
                  escape curve of each setting, the fraction of its runs still on the plateau (within 0.01 of \
                  U since first reaching it) at each iteration; a run still there at its end is censored (a \
                  curve that ends above 0 ends on censored runs). Bottom row (binary data): the trained model's \
                  P̂(x_{n+1} = 1 | state 0) at the first 100 occurrences of state 0 in one held-out sequence (the \
                  paper's 'est' panels), one line per seed; dashed: the chain's p (blue) and the unigram π1 \
                  (vermillion); judged on the mean over occurrences (±0.02, spec §6)."
            .to_string()
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
        (620 * self.cfg.panels.len() as u32, if self.has_estimates() { 1300 } else { 900 })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.cfg.panels.len();
        let rows = if self.has_estimates() { 3 } else { 2 };
        let areas = root.split_evenly((rows, n));
        for (((area, p), outs), k) in areas.iter().zip(&self.cfg.panels).zip(&self.data.outcomes).zip(0..) {
            let first = &outs[0][0];
            let (h, u) = (first.entropy_rate, first.unigram_loss);
            let iters = outs.iter().flatten().map(|o| o.config.iters).max().unwrap_or(1) as f64;
            let top = outs
                .iter()
                .flatten()
                .flat_map(|o| o.curve.iter().skip(1).map(|e| e.loss))
                .filter(|x| x.is_finite())
                .fold(u + 0.02, f64::max)
                .min(u + 0.15);
            let mut ch = panel(area, &p.title, 0.0..iters, (h - 0.03)..top, "iteration", "held-out loss (nats)")?;
            for (k, (g, os)) in p.groups.iter().zip(outs).enumerate() {
                let col = COLORS[k % COLORS.len()];
                for (s, o) in os.iter().enumerate() {
                    let pts: Vec<(f64, f64)> = o.curve.iter().filter(|e| e.loss.is_finite()).map(|e| (e.iter as f64, e.loss.min(top))).collect();
                    let series = ch.draw_series(LineSeries::new(pts, col.mix(0.8).stroke_width(2)))?;
                    if s == 0 {
                        series.label(format!("{} ({} seeds)", g.label, os.len())).legend(seg(col, 2));
                    }
                }
            }
            ch.draw_series(dashed(vec![(0.0, h), (iters, h)], GLOBAL, 2))?.label(format!("H* = {h:.3}")).legend(seg(GLOBAL, 2));
            ch.draw_series(dashed(vec![(0.0, u), (iters, u)], UNIGRAM, 2))?.label(format!("U = {u:.3}")).legend(seg(UNIGRAM, 2));
            legend(&mut ch, SeriesLabelPosition::UpperRight)?;
            self.draw_escape(&areas[n + k], p, outs, iters)?;
            if rows == 3 {
                self.draw_estimates(&areas[2 * n + k], p, outs)?;
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
        let mut ch = panel(area, "escape from the plateau at U (Kaplan–Meier)", 0.0..iters, 0.0..1.05, "iteration", "fraction of runs still on the plateau")?;
        for (k, (g, os)) in p.groups.iter().zip(outs).enumerate() {
            let col = COLORS[k % COLORS.len()];
            ch.draw_series(LineSeries::new(claims::escape_curve(os), col.stroke_width(3)))?
                .label(format!("{} ({} runs)", g.label, os.len()))
                .legend(seg(col, 3));
        }
        legend(&mut ch, SeriesLabelPosition::UpperRight)?;
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
        let cond = if is_lagged(&first.config) { "x_{n-k+1}" } else { "x_n" };
        let mut ch = panel(
            area,
            &format!("model's P(x_{{n+1}} = 1 | {cond} = 0), held-out sequence"),
            1.0..len,
            (lo - pad)..(hi + pad),
            "occurrence of state 0",
            "predicted probability",
        )?;
        for (k, (g, os)) in p.groups.iter().zip(outs).enumerate() {
            let col = COLORS[k % COLORS.len()];
            for (s, o) in os.iter().enumerate() {
                let pts: Vec<(f64, f64)> = o.occurrences.iter().enumerate().map(|(i, &v)| (i as f64 + 1.0, v)).collect();
                let series = ch.draw_series(LineSeries::new(pts, col.mix(0.8).stroke_width(2)))?;
                if s == 0 {
                    series.label(g.label.clone()).legend(seg(col, 2));
                }
            }
        }
        ch.draw_series(dashed(vec![(1.0, truth), (len, truth)], GLOBAL, 2))?.label(format!("p = {truth}")).legend(seg(GLOBAL, 2));
        ch.draw_series(dashed(vec![(1.0, pi1), (len, pi1)], UNIGRAM, 2))?.label(format!("π1 = {pi1:.3}")).legend(seg(UNIGRAM, 2));
        legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}
