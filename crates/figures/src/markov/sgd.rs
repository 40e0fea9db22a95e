//! Figure `markov.canonical.sgd`: SGD with momentum on the exact canonical loss from a small
//! Gaussian initialisation (20 seeds) at four chains, with H* and U dashed (spec §3 "Basins …
//! Consequence" and "Check \[derived\]").

use attnlab_lab::markov::claims::canonical::sgd as claims;
use attnlab_lab::markov::experiments::canonical::sgd::{self as experiment, Data};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::pq_caption;
use crate::plot::{Glyph, legend_row, panel, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito};
use crate::tidy::Tidy;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the SGD runs' record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let js = claims::judge(&rec);
    let d = &rec.result;
    render(&SgdFig { data: d }, &ctx.out_dir, spec.id)?;
    table(d).write_gz(&ctx.out_dir, spec.id)?;
    // The result file keeps each run's judged end; the drawn loss curves are in the table (and the
    // whole record in the cache).
    let mut slim = rec.clone();
    for tr in slim.result.results.iter_mut().flat_map(|r| &mut r.traces) {
        tr.curve.clear();
    }
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&slim)?,
        caption: "Exact population loss along SGD with momentum (lr 0.01, μ 0.9, full gradient of the \
                  exact loss) from e, w ~ N(0, 0.1²), b = 0; one thin line per seed (20 seeds). Dashed: \
                  H* (blue) and U (vermillion). The theory predicts H* for p+q < 1 and U for p+q > 1. \
                  The curves are in results/markov.canonical.sgd.csv.gz."
            .into(),
    })
}

/// The drawn data, tidy (`results/<id>.csv.gz`), per chain: each run that did not diverge as
/// series "SGD run" with its seed (x = step + 1, as drawn on the log axis), and H* and U.
fn table(d: &Data) -> Tidy {
    const X: &str = "step + 1";
    const Y: &str = "exact loss (nats)";
    let mut t = Tidy::default();
    for r in &d.results {
        let name = pq_caption(&r.run.chain);
        for tr in r.traces.iter().filter(|tr| !tr.diverged) {
            t.series(&name, "SGD run", X, Y, Some(tr.seed), tr.curve.iter().map(|&(s, l)| (s as f64 + 1.0, l)));
        }
        let end = r.run.sgd.steps() as f64 + 1.0;
        t.series(&name, "H* (theory)", X, Y, None, [(1.0, r.entropy_rate), (end, r.entropy_rate)]);
        t.series(&name, "U (theory)", X, Y, None, [(1.0, r.unigram_loss), (end, r.unigram_loss)]);
    }
    t
}

struct SgdFig<'a> {
    data: &'a Data,
}

impl Figure for SgdFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 880)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        // H* and U span each panel's whole step axis, so the legend is one row below the panels
        // and the panels' titles carry their values.
        let (body, key) = root.split_vertically(850);
        let areas = body.split_evenly((2, 2));
        let mut seeds = 0;
        for (area, r) in areas.iter().zip(&self.data.results) {
            let (h, u) = (r.entropy_rate, r.unigram_loss);
            let steps = r.run.sgd.steps() as f64;
            let lo = (h - 0.03).max(0.0);
            let hi = r.traces.iter().flat_map(|tr| tr.curve.iter().map(|c| c.1)).fold(u, f64::max) + 0.02;
            // Log step axis (step + 1), so the early escape and the long flat end both show.
            let mut ch = panel(
                area,
                &format!("{}: H* = {h:.4}, U = {u:.4}", pq_caption(&r.run.chain)),
                (1.0..steps + 1.0).log_scale(),
                lo..hi.min(lo + 1.0),
                "step + 1 (log scale)",
                "exact loss (nats)",
            )?;
            let runs: Vec<Vec<(f64, f64)>> = r
                .traces
                .iter()
                .filter(|tr| !tr.diverged)
                .map(|tr| tr.curve.iter().map(|&(s, l)| (s as f64 + 1.0, l)).collect())
                .collect();
            seeds = seeds.max(runs.len());
            for run in &runs {
                ch.draw_series(LineSeries::new(run.clone(), okabe_ito::BLACK.mix(0.35).stroke_width(1)))?;
            }
            theory_line(&mut ch, [(1.0, h), (steps + 1.0, h)], GLOBAL, 2, "H*")?;
            theory_line(&mut ch, [(1.0, u), (steps + 1.0, u)], UNIGRAM, 2, "U")?;
        }
        let runs_label = format!("SGD runs, one line per seed ({seeds} seeds per chain; diverged runs left out)");
        legend_row(
            &key,
            &[
                (Glyph::Line(okabe_ito::BLACK, 1), runs_label.as_str()),
                (Glyph::Dashed(GLOBAL, 2), "H*, the entropy rate (theory)"),
                (Glyph::Dashed(UNIGRAM, 2), "U, the unigram loss (theory)"),
            ],
        )?;
        Ok(())
    }
}
