//! Figure `exchangeable.f3.cme` — E3 (spec §3, T3), all on M1(b): (a) the deterministic bias of
//! m_{wI}(q, z) against g(q, z) = E[v | k = q, z]; (b) total error and fluctuation against w at three
//! L (the bias–variance U); (c) the schedules w_L = L^{2/5} (softmax) and λ_L = 0.1·L⁻¹ᐟ² (CME);
//! (d) normalised CME attention against Nadaraya–Watson as λ grows.

use attnlab_comparator::fmt_num;
use attnlab_lab::exchangeable::experiments::e3::{E3Config, E3Result};
use attnlab_lab::exchangeable::{claims, experiments};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Series, as_x, fit_label, loglog_panel, points};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Draws the figure from E3's record and judgements.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiments::e3::run(&ctx.lab)?;
    let (cfg, d) = (&rec.config, &rec.result);
    let mut js = claims::e3::judge(cfg, d);
    let (again, _) = attnlab_lab::confirm::e3(&ctx.lab)?;
    crate::confirm(&mut js, &claims::e3::judge(&again.config, &again.result), again.seed, ctx.fast())?;
    let argmins: Vec<String> =
        d.sweeps.iter().map(|s| format!("L = {}: w = {}", s.len, fmt_num(s.argmin_w_refined))).collect();
    render(&F3 { d, cfg }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "M1(b): g(q, z) = 0.8·tanh(zᵀJq) = E[v | k = q, z]. (a) RMS bias of the tilted mean m_wI(q, z) over \
             {} (z, q) pairs; dashed: slope −1 (theory O(h²) = O(1/w)). (b) On common random numbers ({} \
             replicates per L): total error to g (solid) and fluctuation around m_wI (thin) against w; the \
             minimum of the total error moves right with L ({}, parabola-refined; ln-ln fit: {} against the \
             predicted 2/5); dashed: w¹ᐟ⁴ (theory fluctuation). (c) Error to g along the schedules \
             w_L = L²ᐟ⁵ (softmax, {} replicates) and λ_L = 0.1·L⁻¹ᐟ² (CME attention, RBF h = {}, {} \
             replicates); dashed: L⁻²ᐟ⁵. (d) Normalised CME − NW at L = {}; dashed: slope −1 (theory O(1/λ)).",
            cfg.bias_pairs,
            cfg.sweep_replicates,
            argmins.join(", "),
            fit_label(&d.argmin_fit),
            cfg.schedule_replicates,
            cfg.cme_h,
            cfg.cme_schedule_replicates,
            cfg.cme_len
        ),
    })
}

struct F3<'a> {
    d: &'a E3Result,
    cfg: &'a E3Config,
}

/// One colour per L in (b): three Okabe–Ito hues far apart (not shades of one).
const L_COLORS: [RGBColor; 3] = [okabe_ito::BLUE, okabe_ito::ORANGE, okabe_ito::GREEN];

impl Figure for F3<'_> {
    fn size(&self) -> (u32, u32) {
        (1400, 1050)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (d, cfg) = (self.d, self.cfg);
        let areas = root.split_evenly((2, 2));
        // (a) bias
        let bias = points(&cfg.bias_ws, &d.bias);
        let tail: Vec<(f64, f64)> = bias.iter().copied().filter(|p| p.0 >= cfg.fit_min_w).collect();
        loglog_panel(
            &areas[0],
            "(a) bias of m_wI(q, z) against E[v | k = q, z]",
            "inverse temperature w (W = wI)",
            "RMS bias",
            &[
                Series::data(
                    format!("RMS bias, fit w ≥ {}: {}", cfg.fit_min_w, fit_label(&d.bias_fit)),
                    okabe_ito::BLUE,
                    bias,
                ),
                Series::slope_through("slope −1 (theory)", okabe_ito::BLACK, &cfg.bias_ws, -1.0, &tail),
            ],
            None,
        )?;
        // (b) U-shape
        let mut s = Vec::new();
        for (k, sw) in d.sweeps.iter().enumerate() {
            let c = L_COLORS[k % 3];
            let total = points(&cfg.sweep_ws, &sw.total);
            // The minimum the F3b claim is about: at the refined argmin, on the total-error curve
            // (log-linear interpolation between grid points).
            let w = sw.argmin_w_refined;
            let y = total
                .windows(2)
                .find(|p| p[0].0 <= w && w <= p[1].0)
                .map(|p| {
                    let t = (w.ln() - p[0].0.ln()) / (p[1].0.ln() - p[0].0.ln());
                    (p[0].1.ln() + t * (p[1].1.ln() - p[0].1.ln())).exp()
                })
                .or_else(|| total.iter().min_by(|a, b| a.1.total_cmp(&b.1)).map(|p| p.1));
            // One legend entry per L (ten entries left the legend no free corner): its total error
            // (the keyed line), fluctuation part (○, thin) and argmin (◆) share its colour.
            s.push(Series::data(format!("total error, L = {}", sw.len), c, total.clone()).keyed_as(format!(
                "L = {}: total error ●, fluctuation part ○, argmin ◆ w ≈ {}",
                sw.len,
                fmt_num(w)
            )));
            s.push(
                Series::thin(format!("fluctuation part, L = {}", sw.len), c, points(&cfg.sweep_ws, &sw.fluct))
                    .unkeyed(),
            );
            if let Some(y) = y {
                s.push(Series::mark(format!("argmin, L = {}: w ≈ {}", sw.len, fmt_num(w)), c, (w, y)).unkeyed());
            }
        }
        if let Some(sw) = d.sweeps.iter().find(|s| s.len == cfg.fluct_len) {
            let fitted: Vec<(f64, f64)> = points(&cfg.sweep_ws, &sw.fluct)
                .into_iter()
                .filter(|p| p.0 >= cfg.fit_min_w && p.0 <= cfg.fit_max_w)
                .collect();
            let label = format!("w¹ᐟ⁴ (theory); L = {}: {}", cfg.fluct_len, fit_label(&d.fluct_fit));
            s.push(Series::slope_through(label, okabe_ito::BLACK, &cfg.sweep_ws, 0.25, &fitted));
        }
        loglog_panel(
            &areas[1],
            "(b) bias–variance U at L = 256, 1024, 4096",
            "inverse temperature w",
            "RMS error",
            &s,
            None,
        )?;
        // (c) schedules
        let xs = as_x(&cfg.schedule_lens);
        let sched = points(&xs, &d.schedule);
        let cme = points(&as_x(&cfg.cme_schedule_lens), &d.cme_schedule);
        let theory =
            Series::slope_through("slope −2/5 (theory, NW rate for dₖ = 1)", okabe_ito::BLACK, &xs, -0.4, &sched);
        loglog_panel(
            &areas[2],
            "(c) error to E[v | k = q, z] along the schedules",
            "sequence length L",
            "RMS error to g(q, z)",
            &[
                Series::data(format!("softmax, w_L = L²ᐟ⁵: {}", fit_label(&d.schedule_fit)), okabe_ito::BLUE, sched),
                Series::data(
                    format!("CME, λ_L = 0.1·L⁻¹ᐟ²: {}", fit_label(&d.cme_schedule_fit)),
                    okabe_ito::ORANGE,
                    cme,
                ),
                theory,
            ],
            None,
        )?;
        // (d) CME → NW
        let gap = points(&cfg.cme_lambdas, &d.cme_gap);
        let theory = Series::slope_through("slope −1 (theory O(1/λ))", okabe_ito::BLACK, &cfg.cme_lambdas, -1.0, &gap);
        loglog_panel(
            &areas[3],
            "(d) normalised CME attention → Nadaraya–Watson",
            "ridge λ",
            "RMS |normalised CME − NW|",
            &[
                Series::data(format!("L = {}: {}", cfg.cme_len, fit_label(&d.cme_gap_fit)), okabe_ito::GREEN, gap),
                theory,
            ],
            None,
        )
    }
}
