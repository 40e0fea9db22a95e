//! Figure `exchangeable.f5.condition` — E5 (spec §3, T5): on M2 with L = 1024, the ratio of the
//! downstream excess E_down to the pretraining excess E_pre against κ, for a target in the weak
//! (θ = e₂) and the strong (θ = e₁) direction; W = 0 (uniform attention) as the sanity check.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance, fmt_num};
use attnlab_exchangeable::experiments::{E5Config, E5Result, pass, run_e5};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::{LogLogFigure, Series, exch, fit_label, slope_claim};
use crate::render::render;
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// The experiment's config: the main run and the W = 0 sanity run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// W = 0.5·I.
    pub main: E5Config,
    /// W = 0.
    pub uniform: E5Config,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// W = 0.5·I.
    pub main: E5Result,
    /// W = 0.
    pub uniform: E5Result,
}

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let main = E5Config::spec(if ctx.fast() { 2000 } else { 8000 });
    let mut uniform = E5Config::spec(if ctx.fast() { 500 } else { 2000 });
    uniform.w = 0.0;
    let cfg = Config { main, uniform };
    let seed = 605;
    let (rec, status) = ctx.lab.cache.get_or_compute(spec.id, &cfg, seed, &super::code_version(), || {
        Ok::<_, FigureError>(Data { main: run_e5(&cfg.main, seed).map_err(exch)?, uniform: run_e5(&cfg.uniform, seed + 1).map_err(exch)? })
    })?;
    let d = &rec.result;
    let ratios = |j: usize| d.main.per_kappa.iter().map(|k| format!("κ={}: {}", k.kappa, fmt_num(k.ratio[j]))).collect::<Vec<_>>().join(", ");
    let fit_range = format!("κ ∈ {{{}}}", cfg.main.kappas.iter().filter(|&&k| k <= cfg.main.fit_max_kappa).map(|k| k.to_string()).collect::<Vec<_>>().join(", "));
    let worst = d.uniform.per_kappa.iter().flat_map(|k| k.e_down_rel).fold(0.0, f64::max);
    let js = vec![
        slope_claim(
            "exchangeable.e5.weak-slope",
            &format!(
                "T5 (R): target in the weakest direction (θ = e₂): E_down/E_pre ≈ κ²/2, slope in κ over {fit_range} is 2 ± 0.25 (ratios {})",
                ratios(1)
            ),
            "§3 E5, §1 T5",
            &d.main.fits[1],
            cfg.main.n,
            pass::E5_WEAK,
            spec.id,
        ),
        slope_claim(
            "exchangeable.e5.strong-slope",
            &format!("T5 (R): target in the strongest direction (θ = e₁): E_down/E_pre ≈ 1/2, flat in κ (slope over {fit_range} 0 ± 0.1; ratios {})", ratios(0)),
            "§3 E5, §1 T5",
            &d.main.fits[0],
            cfg.main.n,
            pass::E5_STRONG,
            spec.id,
        ),
        Judgement::new(
            Claim::new(
                "exchangeable.e5.uniform-sufficient",
                "exchangeable",
                format!(
                    "sanity check: with W = 0 attention is the mean x̄, a sufficient statistic, so E_down is 0 to machine precision (largest E_down/Var(θᵀμ_post) over κ and θ, {} sequences per κ)",
                    cfg.uniform.n
                ),
                "§3 E5",
            ),
            0.0,
            Observation::exact(worst),
            Tolerance::Absolute(1e-20),
            spec.id,
            "relative E_down",
        ),
    ];
    let fig = LogLogFigure {
        caption: "E5: downstream / pretraining excess against κ",
        x_desc: "condition number κ of H",
        y_desc: "E_down / E_pre",
        series: ratio_series(&d.main),
        legend_pos: SeriesLabelPosition::UpperLeft,
    };
    render(&fig, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "M2 (x_l = Hz + ξ_l, H = diag(1, 1/κ)), L = {}, {} sequences per κ; representation r = attn_W(q_c, X, X) \
             with q_c = (1, 1)/√2 and W = {}I. E_pre = E‖(r − Er) − (Hμ_post − E Hμ_post)‖², E_down = excess over \
             Bayes of the best affine read-out of θᵀμ_post from r. Points: E_down/E_pre with bootstrap 95% CIs; \
             dashed: κ²/2 (weak direction θ = e₂) and 1/2 (strong direction θ = e₁), the reconstructed T5 \
             prediction with p = 2. Slopes are fitted over κ ≤ {} (the law saturates once κ²ρ/L ≳ 0.1, ρ = \
             exp(‖Wᵀq_c‖²), pitfall §5.7). W = 0 gives E_down/Var ≤ {:.1e}.",
            cfg.main.len, cfg.main.n, cfg.main.w, cfg.main.fit_max_kappa, worst
        ),
    })
}

/// E_down/E_pre per κ with its CI for θ = e₂ and e₁, and the theory κ²/2 and 1/2.
fn ratio_series(d: &E5Result) -> Vec<Series> {
    let ks: Vec<f64> = d.per_kappa.iter().map(|k| k.kappa).collect();
    let mut series = Vec::new();
    for (j, name, color) in [(1usize, "θ = e₂ (weak direction)", okabe_ito::VERMILLION), (0, "θ = e₁ (strong direction)", okabe_ito::BLUE)] {
        let mut s = Series::data(format!("{name}: {}", fit_label(&d.fits[j])), color, d.per_kappa.iter().map(|k| (k.kappa, k.ratio[j])).collect());
        s.bars = Some(d.per_kappa.iter().map(|k| k.ratio_ci[j]).collect());
        series.push(s);
    }
    series.push(Series::reference("κ²/2 (theory, weak direction)", okabe_ito::BLACK, ks.iter().map(|&k| (k, k * k / 2.0)).collect()));
    series.push(Series::reference("1/2 (theory, strong direction)", okabe_ito::GREY, ks.iter().map(|&k| (k, 0.5)).collect()));
    series
}
