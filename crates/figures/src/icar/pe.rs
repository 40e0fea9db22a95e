//! Figure `icar.pe-only` (spec icar §2d, §3c, Fig 6): the PE-only model with narrow angles
//! (λ = exp(iθ/μ)), gradient descent from P = 0 at lr 0.5 on the population loss, stopped once the
//! previous epoch's loss is < 1e-3. Heat maps of the saved P (superdiagonal dropped, as the
//! reference saves it) and row 28 for μ ∈ {50, 100, 200, 300}, judged against the spec §5 table.

use attnlab_lab::icar::claims::pe_only::{self as claims, SPEC_TABLE};
use attnlab_lab::icar::experiments::pe_only::{self as experiment, Data};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{diverging_bar, matrix_panel};
use crate::plot::{legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the fits' record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let js = claims::judge(&rec);
    let data = &rec.result;
    render(&PeFig { data }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: "Top: the positional matrix P (29×29, rows t, keys j ≤ t) of the PE-only model after early-stopped gradient \
                  descent on the population loss, for μ = 50, 100, 200, 300 (angles U[0, 2π/μ)); as in the reference's saved \
                  arrays the superdiagonal (the exact minimiser's only non-zero entry) is dropped. Bottom: row 28 against the \
                  key position; dots mark the spec §5 reference values P[28,0], P[28,28] and the row minimum. The Gram \
                  matrix sinc(4π(j'−j)/μ) is ill-conditioned, so early-stopped GD gives smooth oscillating rows whose \
                  frequency falls as μ grows instead of the exact one-hot minimiser."
            .into(),
    })
}

struct PeFig<'a> {
    data: &'a Data,
}

const COLORS: [RGBColor; 4] = [okabe_ito::BLUE, okabe_ito::ORANGE, okabe_ito::GREEN, okabe_ito::PURPLE];

impl Figure for PeFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (top, bottom) = root.split_vertically(480);
        let (maps, bars) = top.split_vertically(390);
        let cols = maps.split_evenly((1, 4));
        let barcols = bars.split_evenly((1, 4));
        let n = 29;
        for (k, f) in self.data.fits.iter().enumerate() {
            let saved: Vec<f64> =
                (0..n * n).map(|q| if q % n <= q / n { f.p[(q / n) * 30 + q % n] } else { 0.0 }).collect();
            let s = saved.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            let mu = SPEC_TABLE[k].mu;
            matrix_panel(
                &cols[k],
                &format!("P, μ = {mu} (stop {})", f.stop_iteration),
                &saved,
                n,
                n,
                s,
                &|i, j| j <= i,
                "key j",
                "row t",
            )?;
            diverging_bar(&barcols[k], s, "entry of P")?;
        }
        let lo = self.data.fits.iter().flat_map(|f| f.p[28 * 30..28 * 30 + 29].to_vec()).fold(0.0, f64::min) - 0.03;
        let hi = self.data.fits.iter().flat_map(|f| f.p[28 * 30..28 * 30 + 29].to_vec()).fold(0.0, f64::max) + 0.05;
        let mut ch = panel(
            &bottom,
            "row 28 of P (entries 0..28) against position",
            -0.5..28.5,
            lo..hi,
            "key position j",
            "P[28, j]",
        )?;
        for (k, f) in self.data.fits.iter().enumerate() {
            let col = COLORS[k];
            let row: Vec<(f64, f64)> = (0..29).map(|j| (j as f64, f.p[28 * 30 + j])).collect();
            let r = SPEC_TABLE[k];
            crate::tidy::note_xy(
                "row 28 of P (entries 0..28) against position",
                &format!("μ = {}", r.mu),
                "key position j",
                "P[28, j]",
                &row,
            );
            crate::tidy::note_xy(
                "row 28 of P (entries 0..28) against position",
                &format!("μ = {}, spec §5 table", r.mu),
                "key position j",
                "P[28, j]",
                &[(0.0, r.p28_0), (28.0, r.p28_28), (r.row28_argmin as f64, r.row28_min)],
            );
            ch.draw_series(LineSeries::new((0..29).map(|j| (j as f64, f.p[28 * 30 + j])), col.stroke_width(2)))?
                .label(format!("μ = {}", SPEC_TABLE[k].mu))
                .legend(seg(col, 2));
            let r = SPEC_TABLE[k];
            ch.draw_series(
                [(0.0, r.p28_0), (28.0, r.p28_28), (r.row28_argmin as f64, r.row28_min)]
                    .into_iter()
                    .map(|p| Circle::new(p, 5, col.stroke_width(2))),
            )?;
        }
        ch.draw_series(LineSeries::new(vec![(-0.5, 0.0), (28.5, 0.0)], okabe_ito::GREY.stroke_width(1)))?;
        legend(&mut ch, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}
