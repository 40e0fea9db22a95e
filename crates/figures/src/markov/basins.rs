//! Figure `markov.canonical.basin`: for p = q = 0.1 and p = q = 0.9, the predicted basin of every
//! initial (e, w) (spec §3 "Basins of attraction") against where gradient flow actually ends; the
//! claims (agreement, drift of the conserved energy) come from the lab.

use attnlab_lab::markov::claims::canonical::basin as claims;
use attnlab_lab::markov::experiments::canonical::basin::{self as experiment, Data};
use attnlab_markov::canonical::Basin;
use attnlab_markov::flow::Endpoint;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::pq_caption;
use crate::plot::{Glyph, dashed, finite_runs, heatmap, legend_row, panel};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito, tint};
use crate::tidy::Tidy;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the flows' record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let js = claims::judge(&rec);
    let n = rec.config.e.points().len();
    let d = &rec.result;
    render(&BasinFig { cfg: &rec.config, data: d }, &ctx.out_dir, spec.id)?;
    table(&rec.config, d).write_gz(&ctx.out_dir, spec.id)?;
    // The result file keeps every point's judged outcome; the drawn trajectories are in the table
    // (and the whole record in the cache).
    let mut slim = rec.clone();
    for pt in slim.result.panels.iter_mut().flat_map(|p| &mut p.points) {
        pt.flow.path.clear();
    }
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&slim)?,
        caption: format!(
            "Background (theory): the predicted basin of each initial point — light blue: global set \
             (loss H*), light vermillion: unigram set (loss U). Markers (experiment): where gradient flow \
             (Dormand–Prince 5(4), rtol 1e-10, b held at b*) from a {n}×{n} grid actually ends — blue \
             circle: H*, vermillion circle: U, grey: undecided at t = 10⁵ ({undecided} here); a black cross marks a \
             disagreement ({disagree} here). Thin lines: sampled trajectories. Dashed black: the separatrix E = E*; \
             dashed blue: w = −1/√2. The points, paths and lines are in results/markov.canonical.basin.csv.gz; the \
             background's {f}×{f} map is `predicted.rows` in the result file.",
            f = d.w_fine.len(),
            undecided = d
                .panels
                .iter()
                .flat_map(|p| &p.points)
                .filter(|pt| matches!(pt.flow.endpoint, Endpoint::Undecided))
                .count(),
            disagree = d.panels.iter().flat_map(|p| &p.points).filter(|pt| !pt.agrees()).count(),
        ),
    })
}

/// The drawn data, tidy (`results/<id>.csv.gz`), per chain: every initial point (x = w, y = e) in
/// the series of where its flow ended, again in the series of its predicted basin (theory) and, if
/// the two differ, in "disagrees"; each sampled trajectory as its own series; the separatrix's two
/// branches and w = −1/√2. (The background map is in the result file, `predicted.rows`.)
fn table(cfg: &experiment::Config, d: &Data) -> Tidy {
    const W: &str = "w";
    const E: &str = "e";
    let mut t = Tidy::default();
    let (es, ws) = (cfg.e.points(), cfg.w.points());
    let start = |k: usize| (ws[k % ws.len()], es[k / ws.len()]);
    for p in &d.panels {
        let name = pq_caption(&p.chain);
        for (k, pt) in p.points.iter().enumerate() {
            let ended = match pt.flow.endpoint {
                Endpoint::Global => "flow ends at H*",
                Endpoint::Unigram => "flow ends at U",
                Endpoint::Undecided => "flow undecided at t_max",
                Endpoint::Degenerate => "flow ends where H* = U",
            };
            let predicted = match pt.predicted {
                Basin::Global => "predicted basin: global set (theory)",
                Basin::Unigram => "predicted basin: unigram set (theory)",
                Basin::Degenerate => "predicted basin: none, H* = U (theory)",
            };
            t.series(&name, ended, "initial w", "initial e", None, [start(k)]);
            t.series(&name, predicted, "initial w", "initial e", None, [start(k)]);
            if !pt.agrees() {
                t.series(&name, "disagrees with the predicted basin", "initial w", "initial e", None, [start(k)]);
            }
            if !pt.flow.path.is_empty() {
                let (w0, e0) = start(k);
                t.series(
                    &name,
                    &format!("trajectory from (w, e) = ({w0}, {e0})"),
                    W,
                    E,
                    None,
                    pt.flow.path.iter().map(|&(e, w)| (w, e)),
                );
            }
        }
        for (sign, branch) in [(1.0, "e > 0"), (-1.0, "e < 0")] {
            let sep =
                d.w_fine.iter().zip(&d.separatrix_e).filter_map(|(&w, e)| e.filter(|_| w < 0.0).map(|e| (w, sign * e)));
            t.series(&name, &format!("separatrix E = E* (theory), {branch}"), W, E, None, sep);
        }
        t.series(&name, "w = −1/√2 (theory)", W, E, None, [(d.w_crit, cfg.e.lo()), (d.w_crit, cfg.e.hi())]);
    }
    t
}

struct BasinFig<'a> {
    cfg: &'a experiment::Config,
    data: &'a Data,
}

impl Figure for BasinFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 640)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        // The grid of start points fills each panel: the legend is a row below both.
        let (body, key) = root.split_vertically(580);
        let areas = body.split_evenly((1, self.data.panels.len()));
        let (es, ws) = (self.cfg.e.points(), self.cfg.w.points());
        let (fine, efine) = (&self.data.w_fine, &self.data.e_fine);
        let w_crit = self.data.w_crit;
        for (area, p) in areas.iter().zip(&self.data.panels) {
            let mut ch = panel(area, &pq_caption(&p.chain), -2.1..2.1, -2.1..2.1, "initial w", "initial e")?;
            heatmap(&mut ch, fine, efine, |i, j| match p.predicted.at(i, j) {
                Some(Basin::Global) => tint(GLOBAL, 0.8),
                Some(Basin::Unigram) => tint(UNIGRAM, 0.8),
                Some(Basin::Degenerate) | None => RGBColor(230, 230, 230),
            })?;
            for pt in p.points.iter().filter(|pt| !pt.flow.path.is_empty()) {
                let col = endpoint_color(pt.flow.endpoint);
                ch.draw_series(LineSeries::new(
                    pt.flow.path.iter().map(|&(e, w)| (w, e)),
                    col.mix(0.5).stroke_width(1),
                ))?;
            }
            let start = |k: usize| (ws[k % ws.len()], es[k / ws.len()]);
            ch.draw_series(
                p.points
                    .iter()
                    .enumerate()
                    .map(|(k, pt)| Circle::new(start(k), 2, endpoint_color(pt.flow.endpoint).filled())),
            )?;
            ch.draw_series(
                p.points
                    .iter()
                    .enumerate()
                    .filter(|(_, pt)| !pt.agrees())
                    .map(|(k, _)| Cross::new(start(k), 5, okabe_ito::BLACK.stroke_width(2))),
            )?;
            let sep = |sign: f64| {
                fine.iter().zip(&self.data.separatrix_e).map(move |(&w, e)| match *e {
                    Some(e) if w < 0.0 && e <= 2.1 => (w, sign * e),
                    _ => (w, f64::NAN),
                })
            };
            for run in finite_runs(sep(1.0)).into_iter().chain(finite_runs(sep(-1.0))) {
                ch.draw_series(dashed(run, okabe_ito::BLACK, 2))?;
            }
            ch.draw_series(dashed(vec![(w_crit, -2.1), (w_crit, 2.1)], GLOBAL, 2))?;
        }
        legend_row(
            &key,
            &[
                (Glyph::Patch(tint(GLOBAL, 0.8)), "predicted basin: global set (theory)"),
                (Glyph::Patch(tint(UNIGRAM, 0.8)), "predicted basin: unigram set (theory)"),
                (Glyph::Dashed(okabe_ito::BLACK, 2), "separatrix E = E* (theory)"),
                (Glyph::Dashed(GLOBAL, 2), "w = −1/√2 (theory)"),
                (Glyph::Dot(GLOBAL), "flow ends at H*"),
                (Glyph::Dot(UNIGRAM), "flow ends at U"),
                (Glyph::Dot(okabe_ito::GREY), "undecided at t = 10⁵"),
                (Glyph::Line(tint(GLOBAL, 0.5), 1), "sampled flow paths (colour: endpoint)"),
            ],
        )?;
        Ok(())
    }
}

fn endpoint_color(e: Endpoint) -> RGBColor {
    match e {
        Endpoint::Global => GLOBAL,
        Endpoint::Unigram => UNIGRAM,
        Endpoint::Undecided | Endpoint::Degenerate => okabe_ito::GREY,
    }
}
