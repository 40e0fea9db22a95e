//! Figure `exchangeable.f4.erm` — E4 (spec §3, T4): supervised ERM of the attention temperature on
//! M1(a); parameter error and excess risk against N for L = 16, 64, 256, and the generalisation gap
//! against L for attention and for the flattened-features OLS control.

use attnlab_core::MeanSe;
use attnlab_lab::exchangeable::experiments::e4::E4Result;
use attnlab_lab::exchangeable::{claims, experiments};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Series, as_x, fit_label, loglog_panel, points};
use crate::plot::{panel, seg, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// One colour per L: three Okabe–Ito hues far apart (as in F3).
const COLORS: [RGBColor; 3] = [okabe_ito::BLUE, okabe_ito::ORANGE, okabe_ito::GREEN];

/// Draws the figure from E4's record and judgements.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiments::e4::run(&ctx.lab)?;
    let (cfg, d) = (&rec.config, &rec.result);
    let mut js = claims::e4::judge(cfg, d);
    let (again, _) = attnlab_lab::confirm::e4(&ctx.lab)?;
    crate::confirm(&mut js, &claims::e4::judge(&again.config, &again.result), again.seed, ctx.fast())?;
    render(&F4 { sets: cfg.train_sets, ols_sets: cfg.ols_sets, d }, &ctx.out_dir, spec.id)?;
    let wopt: Vec<String> = d.per_len.iter().map(|p| format!("L = {}: {:.3}", p.len, p.w_opt)).collect();
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "M1(a), q₀ = (1, 0), u = (0.6, 0.8), labels y = uᵀm_(3I)(q₀, z) + 0.1η; model f_w = uᵀattn_wI(q₀, K, K). \
             ERM over ln w: 25-point grid on [0.25, 16], then Brent to 1e-5. {} fresh training sets per (L, N); \
             one test set of {} sequences per L gives w_L* ({}) and the curvature R''_L. (a) RMS parameter \
             error; (b) mean excess risk ½R''(ln ŵ − ln w_L*)² with Student-t 95% bars; dashed: N⁻¹ᐟ² (the \
             theory's upper-bound rate) and N⁻¹ (smooth parametric rate). (c) Generalisation gap (test − \
             train risk) at N = {}, attention vs OLS on the 2L flattened key coordinates ({} training sets); \
             dashed: a line ∝ L through the OLS gap at L = {}.",
            cfg.train_sets,
            cfg.test_size,
            wopt.join(", "),
            d.ns[d.ns.len() - 1],
            cfg.ols_sets,
            d.per_len[0].len
        ),
    })
}

struct F4<'a> {
    /// Training sets per cell (the intervals' n).
    sets: usize,
    /// Training sets of the generalisation-gap panel (its intervals' n).
    ols_sets: usize,
    d: &'a E4Result,
}

impl Figure for F4<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let d = self.d;
        let areas = root.split_evenly((1, 3));
        let xs = as_x(&d.ns);
        // (a) parameter error
        let mut s: Vec<Series> = d
            .per_len
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let mut se = Series::data(
                    format!("L = {}: {}", p.len, fit_label(&p.param_fit)),
                    COLORS[k % 3],
                    points(&xs, &p.param_err),
                );
                // Per-point 95% intervals (a result computed before they were recorded has none).
                if p.param_err_ci.len() == p.param_err.len() {
                    se.bars = Some(p.param_err_ci.clone());
                }
                se
            })
            .collect();
        s.push(Series::slope_through("N⁻¹ᐟ² (theory)", okabe_ito::BLACK, &xs, -0.5, &s[s.len() - 1].points));
        loglog_panel(&areas[0], "(a) parameter error", "training sequences N", "RMS |ln ŵ − ln w_L*|", &s, None)?;
        // (b) excess
        let mut s: Vec<Series> = d
            .per_len
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let mut se = Series::data(
                    format!("L = {}: {}", p.len, fit_label(&p.excess_fit)),
                    COLORS[k % 3],
                    xs.iter().copied().zip(p.excess.iter().map(|m| m.mean)).collect(),
                );
                // Student-t 95% interval of a mean over the training sets.
                let t = attnlab_comparator::t95(self.sets.saturating_sub(1).max(1));
                se.bars = Some(p.excess.iter().map(|m| [m.mean - t * m.se, m.mean + t * m.se]).collect());
                se
            })
            .collect();
        s.push(Series::slope_through("N⁻¹ᐟ² (theory bound)", okabe_ito::BLACK, &xs, -0.5, &s[0].points));
        s.push(Series::slope_through("N⁻¹ (parametric)", okabe_ito::GREY, &xs, -1.0, &s[0].points));
        loglog_panel(&areas[1], "(b) excess risk", "training sequences N", "excess risk", &s, None)?;
        // (c) generalisation gap vs L: linear y (the attention gap can be slightly negative).
        let ls: Vec<f64> = d.per_len.iter().map(|p| p.len as f64).collect();
        let tg = attnlab_comparator::t95(self.ols_sets.saturating_sub(1).max(1));
        let hi = d.per_len.iter().map(|p| p.ols_gap.mean + tg * p.ols_gap.se).fold(0.0, f64::max) * 1.15;
        let lo = d.per_len.iter().map(|p| p.attn_gap.mean - tg * p.attn_gap.se).fold(0.0, f64::min) * 1.15 - 0.02 * hi;
        let mut ch = panel(
            &areas[2],
            "(c) generalisation gap at N = 1024",
            (ls[0] / 1.4..ls[ls.len() - 1] * 1.4).log_scale(),
            lo..hi,
            "sequence length L",
            "test − train risk",
        )?;
        let attn: Vec<MeanSe> = d.per_len.iter().map(|p| p.attn_gap).collect();
        let ols: Vec<MeanSe> = d.per_len.iter().map(|p| p.ols_gap).collect();
        let mut lines: Vec<Vec<(f64, f64)>> = Vec::new();
        for (name, color, m) in [
            ("attention (1 parameter)", okabe_ito::BLUE, attn),
            ("OLS on 2L flattened key coordinates (control)", okabe_ito::VERMILLION, ols),
        ] {
            let pts: Vec<(f64, f64)> = ls.iter().copied().zip(m.iter().map(|x| x.mean)).collect();
            crate::tidy::note(|| {
                ls.iter()
                    .zip(&m)
                    .map(|(&x, v)| crate::tidy::Point {
                        panel: "(c) generalisation gap at N = 1024".into(),
                        series: name.into(),
                        x_name: "sequence length L".into(),
                        x,
                        y_name: "test − train risk (mean, Student-t 95% interval)".into(),
                        y: v.mean,
                        interval: Some([v.mean - tg * v.se, v.mean + tg * v.se]),
                        seed: None,
                    })
                    .collect()
            });
            ch.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?.label(name).legend(seg(color, 2));
            ch.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
            ch.draw_series(ls.iter().zip(&m).map(|(&x, v)| {
                PathElement::new(vec![(x, v.mean - tg * v.se), (x, v.mean + tg * v.se)], color.stroke_width(2))
            }))?;
            lines.extend(ls.iter().zip(&m).map(|(&x, v)| vec![(x, v.mean - tg * v.se), (x, v.mean + tg * v.se)]));
            lines.push(pts);
        }
        let g0 = d.per_len[0].ols_gap.mean;
        let prop: Vec<(f64, f64)> = ls.iter().map(|&l| (l, g0 * l / ls[0])).collect();
        let prop_label = format!("∝ L; OLS ln-ln {}", fit_label(&d.ols_gap_fit));
        theory_line(&mut ch, prop.clone(), okabe_ito::BLACK, 2, prop_label.clone())?;
        lines.push(prop);
        crate::plot::legend_auto(
            &mut ch,
            &lines,
            &["attention (1 parameter)", "OLS on 2L flattened key coordinates (control)", prop_label.as_str()],
        )?;
        Ok(())
    }
}
