//! Figure `exchangeable.f2.posterior` — E2 (spec §3, T1/T2): on M1(a) with W = 2I, the RMSE between
//! attention, the posterior functional ∫m_W(q, z)p(z | X)dz and m_W(q, z_true), against L.

use attnlab_lab::exchangeable::{claims, experiments};
use plotters::prelude::*;

use super::{LogLogFigure, Series, as_x, fit_label, points};
use crate::render::render;
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

const COLORS: [RGBColor; 3] = [okabe_ito::BLUE, okabe_ito::VERMILLION, okabe_ito::GREEN];

/// Draws the figure from E2's record and judgements.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiments::e2::run(&ctx.lab)?;
    let (cfg, d) = (&rec.config, &rec.result);
    let js = claims::e2::judge(cfg, d);
    let xs = as_x(&d.lens);
    let mut series: Vec<Series> = (0..3)
        .map(|c| {
            Series::data(
                format!("{}: {}", claims::e2::CURVES[c], fit_label(&d.fits[c])),
                COLORS[c],
                points(&xs, &d.rmse[c]),
            )
        })
        .collect();
    series.push(Series::slope_through("reference slope −1/2 (theory)", okabe_ito::BLACK, &xs, -0.5, &series[0].points));
    let fig = LogLogFigure {
        caption: "E2: latent-posterior inference by attention",
        x_desc: "sequence length L",
        y_desc: "RMSE",
        series,
        x_ticks: None,
    };
    render(&fig, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "M1(a) (values = keys on the circle), W = 2I, q uniform; RMSE over {} replicates per L of: attention \
             − posterior functional ∫m_W(q, z)p(z | X)dz (blue), attention − m_W(q, z_true) (vermillion), \
             posterior functional − m_W(q, z_true) (green). The posterior is computed on a 41×41 grid centred \
             at its Newton mode, ±8 posterior sd. Dashed: the reference slope −1/2 (theory) through the first \
             curve. Permutation invariance (T1) is a property test (tests/exchangeable_theorems.rs).",
            cfg.replicates
        ),
    })
}
