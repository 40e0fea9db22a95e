//! Figure `icar.diagonal.floors` (spec icar §3b; no reference figure): the minimal per-row loss of
//! the diagonal multi-head model against the number of heads H — theory max(d − H, 0) (unitary)
//! and max(d − 2H, 0) (orthogonal) — against the best of several Adam restarts on the exact loss.

use attnlab_icar::diagonal::Case;
use attnlab_lab::icar::claims::diagonal as claims;
use attnlab_lab::icar::experiments::diagonal::{self as experiment, FloorsData, Point};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{legend, panel, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the restarts' record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run_floors(&ctx.lab)?;
    let js = claims::judge_floors(&rec);
    let cfg = &rec.config;
    let data = &rec.result;
    render(&FloorFig { data }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Minimal loss per row of the diagonal multi-head model (d = 10, T = 20) against the number of heads H. \
             Dashed: theory, max(d − H, 0) for unitary W and max(d − 2H, 0) for commuting orthogonal W (conjugate pairs). \
             Filled markers: the best of {} Adam restarts on the exact loss ({} iterations each); small grey dots: every \
             restart. Orthogonal restarts often stall above the floor (non-global minima mixing I-type and J₂-type \
             coordinates), so the floor is reached by the best restart, not by every one.",
            cfg.restarts, cfg.iters
        ),
    })
}

struct FloorFig<'a> {
    data: &'a FloorsData,
}

impl Figure for FloorFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1300, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let areas = root.split_evenly((1, 2));
        for (area, case) in areas.iter().zip([Case::Unitary, Case::Orthogonal]) {
            let pts: Vec<&Point> = self.data.points.iter().filter(|p| p.model.case() == case).collect();
            let hmax = pts.iter().map(|p| p.model.heads()).max().unwrap_or(1) as f64;
            let top = pts.iter().flat_map(|p| p.per_row.iter().copied()).fold(10.0, f64::max) + 0.5;
            let mut ch = panel(
                area,
                &format!("{} W, d = 10, T = 20", case.name()),
                0.5..hmax + 0.5,
                -0.3..top,
                "number of heads H",
                "loss per row",
            )?;
            ch.draw_series(pts.iter().flat_map(|p| {
                p.per_row
                    .iter()
                    .map(move |l| Circle::new((p.model.heads() as f64 + 0.15, *l), 2, okabe_ito::GREY.filled()))
            }))?
            .label("every restart")
            .legend(|(x, y)| Circle::new((x + 9, y), 2, okabe_ito::GREY.filled()));
            let theory: Vec<(f64, f64)> = pts.iter().map(|p| (p.model.heads() as f64, p.floor)).collect();
            let title = format!("{} W, d = 10, T = 20", case.name());
            let restarts: Vec<(f64, f64)> =
                pts.iter().flat_map(|p| p.per_row.iter().map(move |l| (p.model.heads() as f64, *l))).collect();
            let best: Vec<(f64, f64)> = pts.iter().map(|p| (p.model.heads() as f64, p.best)).collect();
            crate::tidy::note_xy(&title, "every restart", "number of heads H", "loss per row", &restarts);
            crate::tidy::note_xy(&title, "theory floor", "number of heads H", "loss per row", &theory);
            crate::tidy::note_xy(&title, "best restart", "number of heads H", "loss per row", &best);
            theory_line(
                &mut ch,
                theory.clone(),
                okabe_ito::VERMILLION,
                2,
                if case == Case::Unitary { "theory max(d − H, 0)" } else { "theory max(d − 2H, 0)" },
            )?;
            ch.draw_series(
                pts.iter().map(|p| Circle::new((p.model.heads() as f64, p.best), 6, okabe_ito::BLUE.filled())),
            )?
            .label("best restart")
            .legend(|(x, y)| Circle::new((x + 9, y), 5, okabe_ito::BLUE.filled()));
            legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
