//! Figure `exchangeable.f2.posterior` — E2 (spec §3, T1/T2): on M1(a) with W = 2I, the RMSE between
//! attention, the posterior functional ∫m_W(q, z)p(z | X)dz and m_W(q, z_true), against L.

use attnlab_exchangeable::experiments::{E2_CURVES, E2Config, E2Result, run_e2};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Series, anchor, exch, fit_label, loglog_panel, power_line, slope_claim};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

const IDS: [&str; 3] = ["exchangeable.e2.attn-posterior", "exchangeable.e2.attn-truth", "exchangeable.e2.posterior-truth"];
const COLORS: [RGBColor; 3] = [okabe_ito::BLUE, okabe_ito::VERMILLION, okabe_ito::GREEN];

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let cfg = E2Config::spec(if ctx.fast() { 150 } else { 1000 });
    let seed = 602;
    let (rec, status) = ctx.cache.get_or_compute(spec.id, &cfg, seed, &super::code_version(), || run_e2(&cfg, seed).map_err(exch))?;
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
                [-0.57, -0.43],
                spec.id,
            )
        })
        .collect();
    render(&F2 { d }, &ctx.out_dir, spec.id)?;
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

struct F2<'a> {
    d: &'a E2Result,
}

impl Figure for F2<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 650)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let d = self.d;
        let xs: Vec<f64> = d.lens.iter().map(|&l| l as f64).collect();
        let mut series: Vec<Series> = (0..3)
            .map(|c| Series::data(format!("{}: {}", E2_CURVES[c], fit_label(&d.fits[c])), COLORS[c], xs.iter().copied().zip(d.rmse[c].iter().copied()).collect()))
            .collect();
        let (ax, ay) = anchor(&series[0].points);
        series.push(Series::reference("reference slope −1/2 (theory)", okabe_ito::BLACK, power_line(&xs, -0.5, ax, ay)));
        loglog_panel(root, "E2: latent-posterior inference by attention", "sequence length L", "RMSE", &series, SeriesLabelPosition::LowerLeft)
    }
}
