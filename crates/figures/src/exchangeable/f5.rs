//! Figure `exchangeable.f5.condition` — E5 (spec §3, T5): on M2 with L = 1024, the ratio of the
//! downstream excess E_down to the pretraining excess E_pre against κ, for a target in the weak
//! (θ = e₂) and the strong (θ = e₁) direction; W = 0 (uniform attention) as the sanity check.

use attnlab_lab::exchangeable::experiments::e5::E5Result;
use attnlab_lab::exchangeable::{claims, experiments};

use super::{LogLogFigure, Series, fit_label};
use crate::render::render;
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Draws the figure from E5's record and judgements.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiments::e5::run(&ctx.lab)?;
    let (cfg, d) = (&rec.config, &rec.result);
    let js = claims::e5::judge(cfg, d);
    let worst = claims::e5::worst_relative_e_down(&d.uniform);
    let fig = LogLogFigure {
        caption: "E5: downstream / pretraining excess against κ",
        x_desc: "condition number κ of H",
        y_desc: "E_down / E_pre",
        series: ratio_series(&d.main),
        x_ticks: Some(d.main.per_kappa.iter().map(|k| k.kappa).collect()),
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
    for (j, name, color) in
        [(1usize, "θ = e₂ (weak direction)", okabe_ito::VERMILLION), (0, "θ = e₁ (strong direction)", okabe_ito::BLUE)]
    {
        let mut s = Series::data(
            format!("{name}: {}", fit_label(&d.fits[j])),
            color,
            d.per_kappa.iter().map(|k| (k.kappa, k.ratio[j])).collect(),
        );
        s.bars = Some(d.per_kappa.iter().map(|k| k.ratio_ci[j]).collect());
        series.push(s);
    }
    series.push(Series::reference(
        "κ²/2 (theory, weak direction)",
        okabe_ito::BLACK,
        ks.iter().map(|&k| (k, k * k / 2.0)).collect(),
    ));
    series.push(Series::reference(
        "1/2 (theory, strong direction)",
        okabe_ito::GREY,
        ks.iter().map(|&k| (k, 0.5)).collect(),
    ));
    series
}
