//! Figure `exchangeable.f1.fluctuation` — E1 (spec §3, T2): RMSE of softmax attention to the tilted
//! mean m_W(q, z) on M1(b) with W = 2I against L, and the unbounded-key negative control.

use attnlab_lab::exchangeable::{claims, experiments};

use super::{LogLogFigure, Series, as_x, fit_label, points};
use crate::render::render;
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Draws the figure from E1's record and judgements.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiments::e1::run(&ctx.lab)?;
    let (cfg, d) = (&rec.config, &rec.result);
    let js = claims::e1::judge(cfg, d);
    let xs = as_x(&d.lens);
    let (main, ctrl) = (points(&xs, &d.rmse), points(&xs, &d.control_rmse));
    let theory = Series::slope_through("reference slope −1/2 (theory)", okabe_ito::BLACK, &xs, -0.5, &main);
    let through_control = Series::slope_through("slope −1/2 through the control", okabe_ito::GREY, &xs, -0.5, &ctrl);
    let mut bounded =
        Series::data(format!("bounded keys (M1(b), W = 2I): {}", fit_label(&d.fit)), okabe_ito::BLUE, main);
    let mut control = Series::data(
        format!("unbounded keys N(z, I) (control): {}", fit_label(&d.control_fit)),
        okabe_ito::VERMILLION,
        ctrl,
    );
    // Per-point 95% intervals (a result computed before they were recorded has none).
    if d.rmse_ci.len() == d.rmse.len() {
        bounded.bars = Some(d.rmse_ci.clone());
    }
    if d.control_rmse_ci.len() == d.control_rmse.len() {
        control.bars = Some(d.control_rmse_ci.clone());
    }
    let series = vec![bounded, control, theory, through_control];
    let fig = LogLogFigure {
        caption: "E1: fluctuation of attention around m_W(q, z)",
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
            "RMSE over {} replicates per L of softmax attention minus its deterministic limit m_W(q, z) (the \
             tilted conditional mean, spec §2), M1(b) with W = 2I and q uniform on the circle (blue), and \
             the unbounded-key control (vermillion: keys N(z, I), q ~ N(0, I), W = I, values v = k). Dashed: \
             the reference slope −1/2 (theory, T2) through each curve's geometric mean. Bars: each RMSE's 95% \
             interval (Student-t on the mean squared error over the replicates, square-rooted). Legend: OLS slope \
             with bootstrap 95% CI.",
            cfg.replicates
        ),
    })
}
