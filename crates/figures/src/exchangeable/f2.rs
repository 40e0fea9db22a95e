//! Figure `exchangeable.f2.posterior` — E2 (spec §3, T1/T2): on M1(a) with W = 2I, the RMSE between
//! attention, the posterior functional ∫m_W(q, z)p(z | X)dz and m_W(q, z_true), against L.

use attnlab_exchangeable::experiments::{E2_CURVES, E2Config, pass, run_e2};
use plotters::prelude::*;

use super::{LogLogFigure, Series, as_x, exch, fit_label, points, slope_claim};
use crate::render::render;
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

const IDS: [&str; 3] = ["exchangeable.e2.attn-posterior", "exchangeable.e2.attn-truth", "exchangeable.e2.posterior-truth"];
const COLORS: [RGBColor; 3] = [okabe_ito::BLUE, okabe_ito::VERMILLION, okabe_ito::GREEN];

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let cfg = E2Config::spec(if ctx.fast() { 150 } else { 1000 });
    let seed = 602;
    let (rec, status) = ctx.lab.cache.get_or_compute(spec.id, &cfg, seed, &super::code_version(), || run_e2(&cfg, seed).map_err(exch))?;
    let d = &rec.result;
    let js = (0..3)
        .map(|c| {
            slope_claim(
                IDS[c],
                &format!(
                    "T1/T2: RMSE of {} (M1(a), W = {}I, posterior on a 41×41 mode-centred grid) falls like L^(-1/2): slope over L = {} … {}, {} replicates per L",
                    E2_CURVES[c],
                    cfg.w,
                    d.lens[0],
                    d.lens[d.lens.len() - 1],
                    cfg.replicates
                ),
                "§3 E2, §1 T1–T2",
                &d.fits[c],
                cfg.replicates,
                pass::E2_SLOPE,
                spec.id,
            )
        })
        .collect();
    let xs = as_x(&d.lens);
    let mut series: Vec<Series> =
        (0..3).map(|c| Series::data(format!("{}: {}", E2_CURVES[c], fit_label(&d.fits[c])), COLORS[c], points(&xs, &d.rmse[c]))).collect();
    series.push(Series::slope_through("reference slope −1/2 (theory)", okabe_ito::BLACK, &xs, -0.5, &series[0].points));
    let fig = LogLogFigure {
        caption: "E2: latent-posterior inference by attention",
        x_desc: "sequence length L",
        y_desc: "RMSE",
        series,
        legend_pos: SeriesLabelPosition::LowerLeft,
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
