//! Figures of Sander et al., in-context autoregressive learning (spec `icar.md`): the diagonal
//! multi-head closed forms (Fig 3 left/right, loss floors vs H), the trained augmented model (Fig 5)
//! and η*(T, d) against trained heads, the PE-only model (Fig 6), the non-augmented softmax-PE model
//! (Fig 7) and the synthetic stand-in of Fig 4. Each draws the record of its experiment in
//! `attnlab_lab::icar::experiments` and returns the judgements of `attnlab_lab::icar::claims`.

pub mod augmented;
pub mod diag;
pub mod eta;
pub mod floors;
pub mod nonaug;
pub mod pe;
pub mod tokens;

use plotters::coord::Shift;
use plotters::prelude::*;

use attnlab_lab::icar::experiments as ex;

use crate::FigureSpec;
use crate::plot::tick;
use crate::render::DrawResult;
use crate::style::{FONT, okabe_ito};

/// The ICAR figures, in report order.
pub fn figures() -> Vec<FigureSpec> {
    vec![
        FigureSpec {
            id: ex::diagonal::UNITARY_ID,
            title: "Fig 3 left: diagonal multi-head model, unitary W, H = d = 10 (GD on the exact loss)",
            run: diag::run,
        },
        FigureSpec {
            id: ex::diagonal::ORTHOGONAL_ID,
            title: "Fig 3 right: diagonal multi-head model, orthogonal W, H = 8, d = 10 (GD on the exact loss)",
            run: diag::run,
        },
        FigureSpec {
            id: ex::diagonal::FLOORS_ID,
            title: "Loss floor vs number of heads H: theory d − H / d − 2H against trained",
            run: floors::run,
        },
        FigureSpec {
            id: ex::augmented::ID,
            title: "Fig 5: trained augmented-token transformer vs the one-step-GD structure",
            run: augmented::run,
        },
        FigureSpec {
            id: ex::augmented::ETA_ID,
            title: "η*(T, d) and loss*: theory against trained augmented heads",
            run: eta::run,
        },
        FigureSpec {
            id: ex::nonaugmented::ID,
            title: "Fig 7: trained non-augmented model (softmax positional attention × token score)",
            run: nonaug::run,
        },
        FigureSpec {
            id: ex::pe_only::ID,
            title: "Fig 6: PE-only model, narrow angles, early-stopped GD (μ = 50, 100, 200, 300)",
            run: pe::run,
        },
        FigureSpec {
            id: ex::tokens::ID,
            title: "Stand-in for Fig 4: AR(1) fits on windows of synthetic unit-norm embeddings",
            run: tokens::run,
        },
    ]
}

/// Diverging colour map (Okabe–Ito blue → white → vermillion) for t ∈ [−1, 1]; NaN → light grey.
pub(crate) fn diverging(t: f64) -> RGBColor {
    if t.is_nan() {
        return RGBColor(225, 225, 225);
    }
    let t = t.clamp(-1.0, 1.0);
    let (c, a) = if t < 0.0 { (okabe_ito::BLUE, -t) } else { (okabe_ito::VERMILLION, t) };
    let m = |v: u8| (255.0 + (f64::from(v) - 255.0) * a).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// Draws a row-major `rows`×`cols` matrix as a heat map (row 0 at the top) with a symmetric
/// diverging scale ±`scale`; entries where `shown(i, j)` is false are grey. Labels every entry's
/// value when the matrix is small.
pub(crate) fn matrix_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    m: &[f64],
    rows: usize,
    cols: usize,
    scale: f64,
    shown: &dyn Fn(usize, usize) -> bool,
    x_desc: &str,
    y_desc: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut ch = ChartBuilder::on(area)
        .caption(title, (FONT, 15))
        .margin(6)
        .x_label_area_size(34)
        .y_label_area_size(40)
        .build_cartesian_2d(-0.5..cols as f64 - 0.5, -(rows as f64) + 0.5..0.5)?;
    ch.configure_mesh()
        .disable_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(cols.min(10))
        .y_labels(rows.min(10))
        .x_label_formatter(&|v| tick(v.round()))
        .y_label_formatter(&|v| tick(-v.round()))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 14))
        .draw()?;
    crate::tidy::note_matrix(title, m, rows, cols, shown, x_desc, y_desc);
    let scale = scale.max(1e-12);
    ch.draw_series((0..rows).flat_map(|i| (0..cols).map(move |j| (i, j))).map(|(i, j)| {
        let c = if shown(i, j) { diverging(m[i * cols + j] / scale) } else { RGBColor(225, 225, 225) };
        Rectangle::new([(j as f64 - 0.5, -(i as f64) + 0.5), (j as f64 + 0.5, -(i as f64) - 0.5)], c.filled())
    }))?;
    Ok(())
}

/// A horizontal colour-bar legend for the diverging map: "−s … 0 … +s".
pub(crate) fn diverging_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, scale: f64, label: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    crate::plot::signed_bar(area, scale, label, diverging)
}

/// Largest |entry| of a matrix (for a symmetric colour scale).
pub(crate) fn max_abs(m: &[f64]) -> f64 {
    m.iter().fold(0.0f64, |a, v| a.max(v.abs()))
}
