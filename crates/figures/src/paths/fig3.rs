//! The image-free stand-in for Fig 3 (spec §5 "One-shot image classification" cannot run offline:
//! it needs Omniglot/MNIST/FashionMNIST/CIFAR10 downloads), drawn from the lab's `standin`
//! experiment with the judgements of its claims: a synthetic 2-way 1-shot in-context task; a
//! 2-layer, 4-heads-per-layer network trained by gradient descent (the candle trainer); then the
//! theory with those frozen heads: accuracy vs N (3b), the 16 × 16 U at N = 10 from theory, Gibbs
//! samples and the GD network's own path overlaps (3c), head scores against the GD network's
//! accuracy drop when a head is pruned (3e), and pruning heads in ascending score order (3f).

use attnlab_lab::paths::claims::standin as claims;
use attnlab_lab::paths::experiments::standin::{self as experiment, Config, Data};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::fig2::matrix_panel;
use crate::plot::{panel, seg, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Draws Fig 3 (b, c, e, f) of the stand-in experiment in one figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let (cfg, d) = (&rec.config, &rec.result);
    let n = cfg.small_width;
    let mut js = claims::judge(cfg, d, spec.id);
    let (again, _) = attnlab_lab::confirm::paths_standin(&ctx.lab)?;
    crate::confirm(&mut js, &claims::judge(&again.config, &again.result, spec.id), again.seed, ctx.fast())?;
    render(&IclFig { cfg, data: d }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: slim(serde_json::to_value(&rec)?),
        caption: format!(
            "Image-free stand-in for Fig 3 at the Omniglot setup's sizes (Omniglot needs downloads; spec §5). Task: \
             2-way 1-shot in-context classification of synthetic images, new classes every episode: 3 images (2 labelled \
             supports, 1 query) × {} patch tokens of {} features (T = {}, N0 = {}), each image its class prototype + \
             σ·noise (σ = {}, fixed by the GD network's validation accuracy before theory and GP were compared), \
             LayerNorm per patch, plus a sinusoidal patch-position encoding and a frozen random label embedding. \
             Network: learned projection {} → {}, 2 layers × 4 heads (q/k from the raw input, G = {}), mean pooling, \
             Adam ({} steps, batch {}, lr {} cosine-decayed). Theory on P = {} training episodes with the frozen \
             trained heads, average pooling (each solve L-BFGS, at most {} iterations from its neighbour's solution; \
             largest final max |∂(S/N)/∂U| {:.1e}); accuracy on {} test episodes. Panels are named as the paper's (3a, the task schematic, and 3d are not drawn). Fig 3b: test accuracy vs N: theory (dashed \
             blue, τ = {} chosen on {} validation episodes at N = {n}), GP (dashed vermillion, its own τ = {} chosen the same \
             way), Gibbs samples at N = {n} ({} chains, black), the GD network itself (grey). Fig 3c: 16 × 16 U at N = {n}, \
             paths (h1, h2) row-major: theory, Gibbs samples, GD overlaps aᵀV²V¹ (unnormalised; RdBu, symmetric \
             limits). Fig 3e: normalised head scores (bars, ascending) and the GD network's accuracy drop when that single \
             head is pruned (dots). Fig 3f: GD accuracy after pruning heads in ascending score order (sum rescaled by \
             (H − dropped)⁻¹ᐟ²).",
            cfg.task.patches,
            cfg.task.features,
            cfg.task.t(),
            cfg.task.n0(),
            cfg.task.noise,
            cfg.task.n0(),
            cfg.gd.width,
            cfg.gd.g,
            cfg.gd.steps,
            cfg.gd.batch,
            cfg.gd.lr,
            cfg.p_train,
            attnlab_lab::paths::experiments::standin::SOLVER_ITERS,
            d.solver_max_grad,
            cfg.p_test,
            d.tau,
            cfg.p_val,
            d.gp_tau,
            cfg.chains
        ),
    })
}

struct IclFig<'a> {
    cfg: &'a Config,
    data: &'a Data,
}

impl Figure for IclFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1500, 1080)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let d = self.data;
        // Panels named as the paper's Fig 3 panels, in reading order: 3b, then the three versions of
        // 3c, then 3e and 3f (3a is the task schematic, 3d the kernel alignment: not drawn here).
        let cells = root.split_evenly((2, 3));
        // 3b accuracy vs N.
        let xs: Vec<f64> = d.theory.iter().map(|t| t.0).collect();
        let (x0, x1) = (xs[0] * 0.8, xs[xs.len() - 1] * 1.25);
        let mut vals: Vec<f64> = d.theory.iter().map(|t| t.1).collect();
        vals.extend([d.gp_accuracy, d.gd_accuracy, d.acc_samples]);
        let lo = vals.iter().copied().fold(1.0, f64::min) * 100.0 - 2.0;
        let hi = vals.iter().copied().fold(0.0, f64::max) * 100.0 + 2.0;
        // Headroom above the data for the legend (four entries), within 100%.
        let hi = (hi + 0.45 * (hi - lo)).min(100.0);
        let mut ch = panel(
            &cells[0],
            "Fig 3b: accuracy vs N (frozen GD heads)",
            (x0..x1).log_scale(),
            lo..hi,
            "width N (log scale)",
            "test accuracy (%)",
        )?;
        theory_line(
            &mut ch,
            vec![(x0, 100.0 * d.gp_accuracy), (x1, 100.0 * d.gp_accuracy)],
            okabe_ito::VERMILLION,
            2,
            format!("GP (τ = {}, {:.1}%)", d.gp_tau, 100.0 * d.gp_accuracy),
        )?;
        ch.draw_series(LineSeries::new(
            vec![(x0, 100.0 * d.gd_accuracy), (x1, 100.0 * d.gd_accuracy)],
            okabe_ito::GREY.stroke_width(2),
        ))?
        .label(format!("GD network ({:.1}%)", 100.0 * d.gd_accuracy))
        .legend(seg(okabe_ito::GREY, 2));
        let th: Vec<(f64, f64)> = d.theory.iter().map(|t| (t.0, 100.0 * t.1)).collect();
        let a = "Fig 3b: accuracy vs N (frozen GD heads)";
        crate::tidy::note_xy(
            a,
            "GP",
            "width N",
            "test accuracy (%)",
            &[(x0, 100.0 * d.gp_accuracy), (x1, 100.0 * d.gp_accuracy)],
        );
        crate::tidy::note_xy(
            a,
            "GD network",
            "width N",
            "test accuracy (%)",
            &[(x0, 100.0 * d.gd_accuracy), (x1, 100.0 * d.gd_accuracy)],
        );
        crate::tidy::note_xy(a, &format!("theory (τ = {})", d.tau), "width N", "test accuracy (%)", &th);
        crate::tidy::note_xy(
            a,
            "Gibbs samples",
            "width N",
            "test accuracy (%)",
            &[(self.cfg.small_width as f64, 100.0 * d.acc_samples)],
        );
        theory_line(&mut ch, th.clone(), okabe_ito::BLUE, 2, format!("theory (τ = {})", d.tau))?;
        ch.draw_series(th.iter().map(|&p| Cross::new(p, 6, okabe_ito::BLUE.stroke_width(2))))?;
        ch.draw_series(std::iter::once(Circle::new(
            (self.cfg.small_width as f64, 100.0 * d.acc_samples),
            5,
            BLACK.filled(),
        )))?
        .label("Gibbs samples")
        .legend(|(x, y)| Circle::new((x + 9, y), 4, BLACK.filled()));
        let lines = vec![
            vec![(x0, 100.0 * d.gp_accuracy), (x1, 100.0 * d.gp_accuracy)],
            vec![(x0, 100.0 * d.gd_accuracy), (x1, 100.0 * d.gd_accuracy)],
            th.clone(),
            vec![(self.cfg.small_width as f64, 100.0 * d.acc_samples)],
        ];
        let labels = [
            format!("GP (τ = {}, {:.1}%)", d.gp_tau, 100.0 * d.gp_accuracy),
            format!("GD network ({:.1}%)", 100.0 * d.gd_accuracy),
            format!("theory (τ = {})", d.tau),
            "Gibbs samples".to_string(),
        ];
        crate::plot::legend_auto(&mut ch, &lines, &labels.iter().map(String::as_str).collect::<Vec<_>>())?;
        // (b–d) U heat maps.
        let names: Vec<String> = (0..16).map(|p| format!("{}{}", p / 4, p % 4)).collect();
        let nm: Vec<&str> = names.iter().map(String::as_str).collect();
        let order: Vec<usize> = (0..16).collect();
        let n = self.cfg.small_width;
        // Theory and samples share one colour scale (they are compared entry by entry); the GD
        // overlaps, a different quantity, have their own. Each map has its labelled colour bar.
        let shared = super::fig2::max_abs(&d.u_theory).max(super::fig2::max_abs(&d.u_sampled));
        let maps = [
            (
                format!("Fig 3c: theory U, N = {n}"),
                &d.u_theory,
                shared,
                format!("U entry (theory, N = {n}); white = 0"),
            ),
            (
                format!("Fig 3c: Gibbs-sampled U, N = {n}"),
                &d.u_sampled,
                shared,
                format!("U entry (Gibbs samples, N = {n}); white = 0"),
            ),
            (
                "Fig 3c: GD network, aᵀV²V¹ overlaps".to_string(),
                &d.u_gd,
                super::fig2::max_abs(&d.u_gd),
                "overlap aᵀV²V¹ (GD network); white = 0".to_string(),
            ),
        ];
        for (area, (title, u, lim, bar)) in cells[1..4].iter().zip(&maps) {
            let (map, bar_area) = area.split_vertically(480);
            matrix_panel(&map, title, u, &nm, &order, *lim)?;
            super::fig2::hbar(&bar_area, *lim, bar)?;
        }
        // 3e head scores and drops.
        let k = d.head_scores.len();
        let drops: Vec<f64> = d.single_prune.iter().map(|a| 100.0 * (d.gd_accuracy - a)).collect();
        crate::tidy::note(|| {
            d.head_scores
                .iter()
                .zip(&drops)
                .enumerate()
                .flat_map(|(i, (h, &drop))| {
                    let at = |series: &str, y_name: &str, y: f64| crate::tidy::Point {
                        panel: "Fig 3e: head score vs GD drop".into(),
                        series: series.into(),
                        x_name: format!("rank by ascending score (head ({}){})", h.layer + 1, h.head),
                        x: i as f64,
                        y_name: y_name.into(),
                        y,
                        interval: None,
                        seed: None,
                    };
                    [
                        at("head score (theory, N = 10)", "normalised head score", h.score),
                        at("GD drop", "accuracy drop when pruned (points)", drop),
                    ]
                })
                .collect()
        });
        let dmax = drops.iter().copied().fold(1.0, f64::max) * 1.15;
        let mut ch = ChartBuilder::on(&cells[4])
            .caption("Fig 3e: head score vs GD drop", (crate::style::FONT, 18))
            .margin(8)
            .x_label_area_size(42)
            .y_label_area_size(56)
            .right_y_label_area_size(56)
            // Both axes start 5% below zero (the same pixel), so a drop of 0 is a whole dot above the axis.
            .build_cartesian_2d(0.0..k as f64, -0.055..1.1)?
            .set_secondary_coord(0.0..k as f64, -0.05 * dmax..dmax);
        let labels: Vec<String> = d.head_scores.iter().map(|h| format!("({}){}", h.layer + 1, h.head)).collect();
        ch.configure_mesh()
            .disable_mesh()
            .x_labels(2 * k + 1)
            .x_label_formatter(&|v| {
                let i = v.floor() as usize;
                if (v - v.floor() - 0.5).abs() < 1e-9 && i < labels.len() { labels[i].clone() } else { String::new() }
            })
            .y_desc("normalised head score")
            .x_desc("head (layer)index, ascending score")
            .label_style((crate::style::FONT, 14))
            .axis_desc_style((crate::style::FONT, 14))
            .draw()?;
        ch.configure_secondary_axes()
            .y_desc("accuracy drop when pruned (points)")
            .label_style((crate::style::FONT, 14))
            .axis_desc_style((crate::style::FONT, 14))
            .draw()?;
        ch.draw_series(d.head_scores.iter().enumerate().map(|(i, h)| {
            Rectangle::new([(i as f64 + 0.2, 0.0), (i as f64 + 0.8, h.score)], okabe_ito::SKY.filled())
        }))?
        .label("head score (theory, N = 10)")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], okabe_ito::SKY.filled()));
        ch.draw_secondary_series(
            drops
                .iter()
                .enumerate()
                .map(|(i, &v)| Circle::new((i as f64 + 0.5, v.max(0.0)), 5, okabe_ito::VERMILLION.filled())),
        )?
        .label("GD drop (right axis)")
        .legend(|(x, y)| Circle::new((x + 6, y), 4, okabe_ito::VERMILLION.filled()));
        ch.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(okabe_ito::GREY)
            .label_font((crate::style::FONT, 14))
            .draw()?;
        // 3f cumulative pruning.
        let cum: Vec<(f64, f64)> = d.cumulative_prune.iter().enumerate().map(|(i, a)| (i as f64, 100.0 * a)).collect();
        crate::tidy::note_xy(
            "Fig 3f: GD accuracy, pruning in ascending score",
            "GD network",
            "heads pruned",
            "test accuracy (%)",
            &cum,
        );
        let lo = cum.iter().map(|p| p.1).fold(100.0, f64::min) - 3.0;
        // The axis reaches down to chance (50%), so the chance line is always drawn, and stops at 100%.
        // The x axis ends at the most heads pruned.
        let kx = cum.len().saturating_sub(1).max(1) as f64;
        let mut ch = panel(
            &cells[5],
            "Fig 3f: GD accuracy, pruning in ascending score",
            -0.3..kx + 0.3,
            lo.clamp(0.0, 47.0)..100.0,
            "heads pruned",
            "test accuracy (%)",
        )?;
        ch.draw_series(LineSeries::new(cum.clone(), BLACK.stroke_width(2)))?.label("GD network").legend(seg(BLACK, 2));
        ch.draw_series(cum.iter().map(|&p| Circle::new(p, 4, BLACK.filled())))?;
        theory_line(&mut ch, vec![(-0.3, 50.0), (kx + 0.3, 50.0)], okabe_ito::GREY, 1, "chance (50%)")?;
        crate::plot::legend_auto(
            &mut ch,
            &[cum.clone(), vec![(-0.3, 50.0), (kx + 0.3, 50.0)]],
            &["GD network", "chance (50%)"],
        )?;
        Ok(())
    }
}

/// The result file without the trained weights (≈ 2.5 M numbers, 50 MB of JSON at the Omniglot
/// sizes): they stay in the cache; the GD loss curve moves up to `result.gd_loss_curve`.
fn slim(mut record: serde_json::Value) -> serde_json::Value {
    if let Some(result) = record.get_mut("result").and_then(serde_json::Value::as_object_mut)
        && let Some(mut weights) = result.remove("weights")
    {
        if let Some(curve) = weights.get_mut("loss_curve").map(serde_json::Value::take) {
            result.insert("gd_loss_curve".into(), curve);
        }
        result.insert(
            "weights".into(),
            serde_json::Value::String("left out of this file (≈ 2.5 M numbers); kept in the cache: `cargo xtask figures --only paths.fig3` rebuilds them".into()),
        );
    }
    record
}
