//! Figure `markov.train.phase`: phase diagrams over a (p, q) grid — theory model (§2a) and
//! GPT-style model (§2b), tied and untied: where the final loss sits between H* (0) and U (1), and
//! how long the run stayed on the plateau at U, and (F8) how far the predicted transition
//! probabilities P̂(1 | 0), P̂(1 | 1) are from the chain's p and 1 − q — the per-cell statistics the
//! claims judge (`claims::train::phase`). The theory boundary p+q = 1 is drawn.

use attnlab_comparator::Verdict;
use attnlab_lab::markov::claims::train::phase::{
    self as claims, CellVerdict, Row, plateau, position, transition_error,
};
use attnlab_lab::markov::experiments::train::TrainOutcome;
use attnlab_lab::markov::experiments::train::phase::{self as experiment, Config, PhaseData};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{Glyph, colorbar, dashed, heatmap, legend_row, panel, text};
use crate::render::{DrawResult, Figure, render};
use crate::style::viridis;
use crate::tidy::Tidy;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Upper end of the colour scale of the F8 row.
pub const ERR_SCALE: f64 = 0.2;

/// Runs the figure: the grid's record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let js = claims::judge(&rec);
    let (cfg, data) = (&rec.config, &rec.result);
    let cells = claims::cells(cfg, data);
    render(&PhaseFig { cfg, data, cells: &cells }, &ctx.out_dir, spec.id)?;
    // One row per cell and statistic: panel = model and statistic, series = q, x = p.
    let mut t = Tidy::default();
    for (m, &(arch, tying)) in cfg.models.iter().enumerate() {
        let name = format!("{} model, {}", arch.name(), if tying { "tied" } else { "untied" });
        let g = &cfg.grids[m];
        let stats: [(&str, &'static str, CellStat<'_>); 3] = [
            ("final loss", "final loss position: 0 = H*, 1 = U (mean over seeds)", &position),
            ("plateau", "plateau at U / run length (mean over seeds)", &plateau),
            ("F8", "max |P̂ − P| over states (mean over seeds)", &transition_error),
        ];
        for (stat, y_name, f) in stats {
            for (j, &q) in g.iter().enumerate() {
                t.series(
                    &format!("{name}: {stat}"),
                    &format!("q = {q}"),
                    "p",
                    y_name,
                    None,
                    g.iter().enumerate().map(|(i, &p)| (p, f(&data.cells[m][i][j]))),
                );
            }
        }
    }
    t.write(&ctx.out_dir, spec.id)?;
    // The result file keeps what is drawn and judged: each run's evaluation curve and held-out
    // P̂ sequence (the bulk of the record, drawn nowhere here) stay in the cache's records.
    let mut slim = rec.clone();
    for o in slim.result.cells.iter_mut().flatten().flatten().flatten() {
        o.curve.clear();
        o.occurrences.clear();
    }
    // Each cell's own judgement goes into the result file next to the experiment's record.
    let mut record = serde_json::to_value(&slim)?;
    record["cell_verdicts"] = serde_json::to_value(&cells)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record,
        caption: "Top: where the final held-out loss sits between H* (0) and U (1), mean over seeds, per (p, q) \
                  cell; middle: the fraction of the run spent on the plateau within 0.01 of U (1 = never left). \
                  Bottom row (F8): the larger of |P̂(1|0) − p| and |P̂(1|1) − (1 − q)| at the end (0 = the model predicts \
                  the chain's transitions; colour scale clipped at 0.2). Grey: U − H* < 0.03, too close to tell apart. Dashed white: the theory boundary p+q = 1; the \
                  tied models are predicted at 1 above it (the theory model by T1–T3; the GPT-style model as in the paper's F8) and 0 everywhere else. Markers on the top and bottom rows: \
                  each cell's own verdict on the proportion of its runs that behave as predicted (Wilson 95% interval against ≥ 1/2): \
                  white ring = agrees, black cross = disagrees, grey dot with a black edge = inconclusive. The claims count these cells."
            .to_string()
            + &format!(
                " Sizes: theory model {n_t}×{n_t} grid, N {}, {} iterations; GPT-style {n_g}×{n_g} grid, N {}, {} iterations; d as the model's default, B 16, {} seeds per cell.",
                cfg.base_theory.seq_len,
                cfg.base_theory.iters,
                cfg.base_gpt.seq_len,
                cfg.base_gpt.iters,
                cfg.seeds,
                n_t = cfg.grids.first().map_or(0, Vec::len),
                n_g = cfg.grids.last().map_or(0, Vec::len),
            ),
    })
}

/// A per-cell statistic drawn as one row of maps.
type CellStat<'a> = &'a dyn Fn(&[TrainOutcome]) -> f64;

struct PhaseFig<'a> {
    cfg: &'a Config,
    data: &'a PhaseData,
    cells: &'a [CellVerdict],
}

impl Figure for PhaseFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 1330)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (head, rest) = root.split_vertically(30);
        let (body, key) = rest.split_vertically(1260);
        let (maps, bars) = body.split_horizontally(1490);
        let rows = maps.split_evenly((3, self.cfg.models.len()));
        let bar_rows = bars.split_evenly((3, 1));
        let err_row = |os: &[TrainOutcome]| transition_error(os) / ERR_SCALE;
        let mut sizes = Vec::new();
        for (m, &(arch, tying)) in self.cfg.models.iter().enumerate() {
            let g = &self.cfg.grids[m];
            let b = self.cfg.base(arch);
            let size = format!(
                "{}: {}×{} grid, N {}, {} it., {} seeds/cell",
                arch.name(),
                g.len(),
                g.len(),
                b.seq_len,
                b.iters,
                self.cfg.seeds
            );
            if !sizes.contains(&size) {
                sizes.push(size);
            }
            let name = format!("{}, {}", arch.name(), if tying { "tied" } else { "untied" });
            let kinds: [(&str, CellStat<'_>); 3] =
                [("final loss", &position), ("plateau at U", &plateau), ("F8: |P(model) − P|", &err_row)];
            for (row, (label, f)) in kinds.into_iter().enumerate() {
                let area = &rows[row * self.cfg.models.len() + m];
                let mut ch = panel(area, &format!("{name}: {label}"), 0.0..1.0, 0.0..1.0, "p = P(0→1)", "q = P(1→0)")?;
                heatmap(&mut ch, g, g, |i, j| viridis(f(&self.data.cells[m][i][j])))?;
                ch.draw_series(dashed(vec![(0.0, 1.0), (1.0, 0.0)], RGBColor(255, 255, 255), 2))?;
                let judged = match row {
                    0 => Some(Row::Loss),
                    2 => Some(Row::F8),
                    _ => None,
                };
                for c in self.cells.iter().filter(|c| Some(c.row) == judged && c.model == m) {
                    let at = (c.p, c.q);
                    match c.verdict {
                        Verdict::Agrees => {
                            ch.draw_series(std::iter::once(Circle::new(at, 5, WHITE.stroke_width(2))))?;
                        }
                        Verdict::Disagrees => {
                            ch.draw_series(std::iter::once(Cross::new(at, 5, BLACK.stroke_width(3))))?;
                        }
                        Verdict::Inconclusive | Verdict::NotJudged => {
                            ch.draw_series(std::iter::once(Circle::new(at, 4, BLACK.filled())))?;
                            ch.draw_series(std::iter::once(Circle::new(at, 3, RGBColor(150, 150, 150).filled())))?;
                        }
                    }
                }
            }
        }
        text(&head, &format!("Sizes — {}", sizes.join("; ")), (12, 8), 14)?;
        let labels = [
            "final loss position (0 = H*, 1 = U), seed mean",
            "fraction of the run on the plateau at U",
            "max |P(model) − P| over states (clipped at 0.2)",
        ];
        for (k, area) in bar_rows.iter().enumerate() {
            let hi = if k == 2 { ERR_SCALE } else { 1.0 };
            colorbar(area, 0.0, hi, labels[k], viridis)?;
        }
        legend_row(
            &key,
            &[
                (
                    Glyph::Dashed(crate::style::okabe_ito::GREY, 2),
                    "p + q = 1, the theory boundary (drawn white on the maps)",
                ),
                (Glyph::Patch(RGBColor(200, 200, 200)), "U − H* < 0.03: too close to tell apart"),
                (Glyph::RingOn(WHITE, viridis(0.5)), "cell agrees"),
                (Glyph::Cross(BLACK), "cell disagrees"),
                (Glyph::Dot(RGBColor(150, 150, 150)), "cell inconclusive (black-edged dot)"),
            ],
        )?;
        Ok(())
    }
}
