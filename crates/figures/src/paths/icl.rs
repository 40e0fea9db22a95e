//! The image-free stand-in for Fig 3 (spec §5 "One-shot image classification" cannot run offline:
//! it needs Omniglot/MNIST/FashionMNIST/CIFAR10 downloads). A synthetic 2-way 1-shot in-context task
//! ([`super::icl_model`]); a 2-layer, 4-heads-per-layer network whose query/key weights are trained
//! by gradient descent (Adam, candle); then the theory with those frozen heads: accuracy vs N (3b),
//! the 16 × 16 U at N = 10 from theory, Gibbs samples and the GD network's own path overlaps (3c),
//! head scores against the GD network's accuracy drop when a head is pruned (3e), and pruning
//! heads in ascending score order (3f).

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_core::MeanSe;
use attnlab_core::rng::child_seed;
use attnlab_paths::analysis::{HeadScore, head_scores, prune};
use attnlab_paths::gibbs::{GibbsConfig, sample};
use attnlab_paths::predict::{Predictor, accuracy, correlation};
use attnlab_paths::{Action, Architecture, OrderParams, PathInputs, PreKernels, Readout, SolverOptions, solve};
use nalgebra::{DMatrix, DVector};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::code_version;
use super::experiment::paths_err;
use super::fig2::matrix_panel;
use super::icl_model::{GdConfig, GdWeights, IclTask, accuracy as gd_accuracy, frozen_heads, gd_overlaps, train};
use crate::plot::{dashed, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Task.
    pub task: IclTask,
    /// GD network and optimiser.
    pub gd: GdConfig,
    /// Training episodes of the theory (half per class).
    pub p_train: usize,
    /// Validation episodes (to choose τ; never the test set, spec §10.9).
    pub p_val: usize,
    /// Test episodes.
    pub p_test: usize,
    /// τ candidates.
    pub taus: Vec<f64>,
    /// Theory widths.
    pub widths: Vec<f64>,
    /// Width of U, head scores and sampling.
    pub small_width: usize,
    /// Gibbs (kept samples, burn-in) per chain.
    pub gibbs: (usize, usize),
    /// Chains.
    pub chains: usize,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// The trained weights.
    pub weights: GdWeights,
    /// GD network test accuracy (all heads).
    pub gd_accuracy: f64,
    /// (τ, validation accuracy at the small width).
    pub val: Vec<(f64, f64)>,
    /// The chosen τ.
    pub tau: f64,
    /// GP test accuracy at that τ.
    pub gp_accuracy: f64,
    /// (N, theory test accuracy).
    pub theory: Vec<(f64, f64)>,
    /// Theory U at the small width.
    pub u_theory: Vec<Vec<f64>>,
    /// Sampled U.
    pub u_sampled: Vec<Vec<f64>>,
    /// Its Monte-Carlo SE.
    pub u_se: Vec<Vec<f64>>,
    /// GD overlaps.
    pub u_gd: Vec<Vec<f64>>,
    /// Sampled mean-predictor accuracy, per chain and pooled.
    pub acc_samples: f64,
    /// Per-chain accuracy.
    pub chain_accuracy: Vec<f64>,
    /// Correlation of the sampled and theory mean predictors.
    pub corr: f64,
    /// ‖U_s − U_t‖_F/‖U_t‖_F and its SE.
    pub rel_gap: (f64, f64),
    /// Min ESS, max split-R̂, seconds per sweep.
    pub diagnostics: (f64, f64, f64),
    /// Head scores (ascending).
    pub head_scores: Vec<HeadScore>,
    /// GD accuracy with one head pruned, in ascending score order.
    pub single_prune: Vec<f64>,
    /// GD accuracy after pruning the k lowest-score heads, k = 0, 1, … until a layer would lose its
    /// last head.
    pub cumulative_prune: Vec<f64>,
    /// Theory-side accuracy with one head's paths removed from U, in ascending score order.
    pub theory_prune: Vec<f64>,
}

fn mat(r: &[Vec<f64>]) -> DMatrix<f64> {
    DMatrix::from_fn(r.len(), r[0].len(), |i, j| r[i][j])
}

fn rows(m: &DMatrix<f64>) -> Vec<Vec<f64>> {
    (0..m.nrows()).map(|i| m.row(i).iter().copied().collect()).collect()
}

fn config(ctx: &Ctx) -> Config {
    Config {
        task: IclTask { d: 12, m: 3, noise: 0.7 },
        gd: GdConfig { width: 32, g: 8, heads: 4, layers: 2, steps: if ctx.fast() { 600 } else { 1200 }, batch: 128, lr: 5e-3 },
        p_train: if ctx.fast() { 80 } else { 120 },
        p_val: 400,
        p_test: 1000,
        taus: vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0],
        widths: if ctx.fast() { vec![10.0, 100.0, 1e4] } else { vec![10.0, 20.0, 50.0, 100.0, 300.0, 1000.0, 1e4] },
        small_width: 10,
        gibbs: if ctx.fast() { (300, 100) } else { (1000, 250) },
        chains: 2,
    }
}

fn compute(cfg: &Config, seed: u64) -> Result<Data, FigureError> {
    let weights = train(&cfg.task, &cfg.gd, child_seed(seed, 0)).map_err(|e| FigureError::Draw(format!("candle training: {e}")))?;
    let (xtr, ytr) = cfg.task.dataset(cfg.p_train, child_seed(seed, 1));
    let (xval, yval) = cfg.task.dataset(cfg.p_val, child_seed(seed, 2));
    let (xte, yte) = cfg.task.dataset(cfg.p_test, child_seed(seed, 3));
    let gd_err = |e: candle_core::Error| FigureError::Draw(format!("candle evaluation: {e}"));
    let gd_acc = gd_accuracy(&weights, &cfg.task, &cfg.gd, &xte, &yte, &[]).map_err(gd_err)?;
    let heads = frozen_heads(&weights, &cfg.task, &cfg.gd);
    let hpl = vec![cfg.gd.heads; cfg.gd.layers];
    let train_in = PathInputs::new(&xtr, &heads, Readout::AveragePooling, 1.0);
    let val_in = PathInputs::new(&xval, &heads, Readout::AveragePooling, 1.0);
    let test_in = PathInputs::new(&xte, &heads, Readout::AveragePooling, 1.0);
    let kernels = PreKernels::new(&train_in);
    let y = DVector::from_vec(ytr.clone());
    let solve_at = |n: f64, tau: f64, start: Option<&OrderParams>| -> Result<OrderParams, FigureError> {
        let arch = Architecture::equal_width(&hpl, n).map_err(paths_err)?;
        let action = Action::new(arch, kernels.clone(), y.clone(), tau).map_err(paths_err)?;
        let opts = SolverOptions { newton_steps: 3, ..SolverOptions::default() };
        Ok(solve(&action, start, &opts).map_err(paths_err)?.params)
    };
    let acc_on = |u: &DMatrix<f64>, tau: f64, x: &PathInputs, yy: &[f64]| -> Result<f64, FigureError> {
        let p = Predictor::new(&train_in, &kernels, u, &y, tau).map_err(paths_err)?;
        Ok(accuracy(&p.mean(x), yy))
    };
    // τ by validation accuracy at the small width.
    let mut val = Vec::new();
    for &tau in &cfg.taus {
        let p = solve_at(cfg.small_width as f64, tau, None)?;
        val.push((tau, acc_on(&p.u[0], tau, &val_in, &yval)?));
    }
    let tau = val.iter().fold((cfg.taus[0], -1.0), |b, &(t, a)| if a > b.1 { (t, a) } else { b }).0;
    let n_pi = train_in.n_paths();
    let gp_accuracy = acc_on(&DMatrix::identity(n_pi, n_pi), tau, &test_in, &yte)?;
    let mut theory = Vec::new();
    let mut start = None;
    for &n in &cfg.widths {
        let p = solve_at(n, tau, start.as_ref())?;
        theory.push((n, acc_on(&p.u[0], tau, &test_in, &yte)?));
        start = Some(p);
    }
    let small = solve_at(cfg.small_width as f64, tau, None)?;
    let ut = small.u[0].clone();
    let pred = Predictor::new(&train_in, &kernels, &ut, &y, tau).map_err(paths_err)?;
    let mean_t = pred.mean(&test_in);
    // Gibbs at the small width.
    let arch = Architecture::equal_width(&hpl, cfg.small_width as f64).map_err(paths_err)?;
    let gc = GibbsConfig::new(cfg.gibbs.0, cfg.gibbs.1, cfg.chains, child_seed(seed, 4)).map_err(paths_err)?;
    let g = sample(&arch, &train_in, &ytr, &test_in, &yte, tau, &gc).map_err(paths_err)?;
    let us = mat(&g.u_mean);
    let diff = &us - &ut;
    let (dn, tn) = (diff.norm(), ut.norm());
    let mut se2 = 0.0;
    for i in 0..n_pi {
        for j in 0..n_pi {
            if dn > 0.0 {
                se2 += (diff[(i, j)] / dn).powi(2) * g.u_se[i][j].powi(2);
            }
        }
    }
    // Head scores and pruning.
    let scores = head_scores(&ut, &hpl);
    let mut single_prune = Vec::new();
    let mut theory_prune = Vec::new();
    let mut cumulative_prune = vec![gd_acc];
    let mut dropped = Vec::new();
    for s in &scores {
        single_prune.push(gd_accuracy(&weights, &cfg.task, &cfg.gd, &xte, &yte, &[(s.layer, s.head)]).map_err(gd_err)?);
        let up = prune(&ut, &hpl, &[(s.layer, s.head)]);
        theory_prune.push(acc_on(&up, tau, &test_in, &yte)?);
        dropped.push((s.layer, s.head));
        // Stop before a layer loses its last head (the output would be identically 0).
        let emptied = (0..cfg.gd.layers).any(|l| dropped.iter().filter(|d| d.0 == l).count() >= cfg.gd.heads);
        if !emptied {
            cumulative_prune.push(gd_accuracy(&weights, &cfg.task, &cfg.gd, &xte, &yte, &dropped).map_err(gd_err)?);
        }
    }
    Ok(Data {
        gd_accuracy: gd_acc,
        val,
        tau,
        gp_accuracy,
        theory,
        u_theory: rows(&ut),
        u_sampled: g.u_mean.clone(),
        u_se: g.u_se.clone(),
        u_gd: rows(&gd_overlaps(&weights, &cfg.gd)),
        acc_samples: accuracy(&g.test_mean, &yte),
        chain_accuracy: g.chain_accuracy.clone(),
        corr: correlation(&g.test_mean, &mean_t),
        rel_gap: (dn / tn, se2.sqrt() / tn),
        diagnostics: (g.min_ess, g.max_rhat, g.seconds_per_sweep),
        head_scores: scores,
        single_prune,
        cumulative_prune,
        theory_prune,
        weights,
    })
}

fn claim(id: &str, statement: impl Into<String>, section: &str) -> Claim {
    Claim::new(id, "paths", statement, section)
}

fn check(id: &str, statement: String, section: &str, ok: bool, fig: &str) -> Judgement {
    Judgement::new(claim(id, statement, section), 1.0, Observation::exact(if ok { 1.0 } else { 0.0 }), Tolerance::Absolute(0.0), fig, "(1 = holds)")
}

/// Spearman rank correlation.
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let rank = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        for (k, &i) in idx.iter().enumerate() {
            r[i] = k as f64;
        }
        r
    };
    correlation(&rank(a), &rank(b))
}

fn upper(m: &[Vec<f64>]) -> Vec<f64> {
    let n = m.len();
    (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).map(|(i, j)| m[i][j]).collect()
}

/// Runs the stand-in experiment and draws Fig 3 (b, c, e, f) in one figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let cfg = config(ctx);
    let seed = 3;
    let (rec, status) = ctx.lab.cache.get_or_compute(spec.id, &cfg, seed, &code_version(), || compute(&cfg, seed))?;
    let d = &rec.result;
    let n = cfg.small_width;
    let th_small = d.theory.iter().find(|t| t.0 == n as f64).map_or(f64::NAN, |t| t.1);
    let drops: Vec<f64> = d.single_prune.iter().map(|a| d.gd_accuracy - a).collect();
    let scores: Vec<f64> = d.head_scores.iter().map(|h| h.score).collect();
    let rho = spearman(&scores, &drops);
    let corr_gd = correlation(&upper(&d.u_theory).iter().map(|v| v.abs()).collect::<Vec<_>>(), &upper(&d.u_gd).iter().map(|v| v.abs()).collect::<Vec<_>>());
    let corr_s = correlation(&upper(&d.u_theory), &upper(&d.u_sampled));
    let flat2 = d.cumulative_prune.get(2).copied().unwrap_or(f64::NAN);
    let m = MeanSe::of(&d.chain_accuracy);
    let js = vec![
        check(
            "paths.fig3.standin.theory-above-gp",
            format!("with the GD-trained frozen heads, theory accuracy at N = {n} ({:.1}%) exceeds the GP accuracy ({:.1}%) (τ = {} chosen on a validation set)", 100.0 * th_small, 100.0 * d.gp_accuracy, d.tau),
            "§7 Fig 3b",
            th_small > d.gp_accuracy,
            spec.id,
        ),
        Judgement::new(
            claim("paths.fig3.standin.samples-accuracy", format!("Gibbs-sampled mean-predictor accuracy equals the theory's at N = {n} (16 paths; min ESS {:.0}, max split-R̂ {:.3})", d.diagnostics.0, d.diagnostics.1), "§6"),
            th_small,
            Observation { value: d.acc_samples, se: m.se, n: m.n },
            Tolerance::Absolute(0.01),
            spec.id,
            "fraction",
        ),
        Judgement::new(
            claim("paths.fig3.standin.samples-correlation", format!("correlation of sampled and theory mean predictors at N = {n}"), "§6"),
            1.0,
            Observation::exact(d.corr),
            Tolerance::Absolute(0.01),
            spec.id,
            "",
        ),
        Judgement::new(
            claim("paths.fig3.standin.samples-U", format!("sampled 16 × 16 U matches theory within 1.5/N at N = {n}: ‖U_s − U_t‖/‖U_t‖ (entry correlation {corr_s:.3})"), "§6, §10.10"),
            0.0,
            Observation { value: d.rel_gap.0, se: d.rel_gap.1, n: cfg.chains },
            Tolerance::Absolute(1.5 / n as f64),
            spec.id,
            "",
        ),
        check(
            "paths.fig3c.gd-pattern",
            format!("the GD network's path overlaps show the theory's pattern: correlation of |U| entries (theory N = {n} vs GD) = {corr_gd:.3} > 0.5"),
            "§7 Fig 3c",
            corr_gd > 0.5,
            spec.id,
        ),
        check(
            "paths.fig3e.score-vs-drop",
            format!("low head score ⇒ small accuracy drop when that head is pruned from the GD network: Spearman correlation of scores and drops = {rho:.3} > 0"),
            "§7 Fig 3e",
            rho > 0.0,
            spec.id,
        ),
        check(
            "paths.fig3f.flat",
            format!(
                "pruning the 2 lowest-score heads costs the GD network at most 2 points ({:.1}% → {:.1}%)",
                100.0 * d.gd_accuracy,
                100.0 * flat2
            ),
            "§7 Fig 3f",
            d.gd_accuracy - flat2 <= 0.02,
            spec.id,
        ),
    ];
    render(&IclFig { cfg: &cfg, data: d }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Image-free stand-in for Fig 3 (the Omniglot task needs downloads; spec §5). Task: 2-way 1-shot in-context \
             classification of Gaussian prototypes (d = {}, {} tokens per item, noise σ = {}); network: learned input \
             projection, 2 layers × 4 heads (q/k from the raw input, G = {}), mean pooling, trained by Adam ({} steps, \
             batch {}) with the candle trainer's optimiser. (a) Test accuracy vs N: theory with the frozen trained heads \
             (dashed blue), GP (vermillion), Gibbs samples at N = {n} (black), the GD network itself (grey). \
             (b–d) 16 × 16 U at N = {n}, paths (h1, h2) row-major: theory, Gibbs samples, GD overlaps aᵀV²V¹ \
             (unnormalised; RdBu, symmetric limits). (e) Normalised head scores (bars, ascending) and the GD network's \
             accuracy drop when that single head is pruned (dots). (f) GD accuracy after pruning heads in ascending score \
             order (sum rescaled by (H − dropped)^(−1/2)).",
            cfg.task.d, cfg.task.m, cfg.task.noise, cfg.gd.g, cfg.gd.steps, cfg.gd.batch
        ),
    })
}

struct IclFig<'a> {
    cfg: &'a Config,
    data: &'a Data,
}

impl Figure for IclFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1500, 960)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let d = self.data;
        let (top, bottom) = root.split_vertically(480);
        let tops = top.split_evenly((1, 3));
        let bots = bottom.split_evenly((1, 3));
        // (a) accuracy vs N.
        let xs: Vec<f64> = d.theory.iter().map(|t| t.0).collect();
        let (x0, x1) = (xs[0] * 0.8, xs[xs.len() - 1] * 1.25);
        let mut vals: Vec<f64> = d.theory.iter().map(|t| t.1).collect();
        vals.extend([d.gp_accuracy, d.gd_accuracy, d.acc_samples]);
        let lo = vals.iter().copied().fold(1.0, f64::min) * 100.0 - 2.0;
        let hi = (vals.iter().copied().fold(0.0, f64::max) * 100.0 + 2.0).min(100.5);
        let mut ch = panel(&bots[0], "(a) accuracy vs N (frozen GD heads)", (x0..x1).log_scale(), lo..hi, "width N (log scale)", "test accuracy (%)")?;
        ch.draw_series(LineSeries::new(vec![(x0, 100.0 * d.gp_accuracy), (x1, 100.0 * d.gp_accuracy)], okabe_ito::VERMILLION.stroke_width(2)))?
            .label(format!("GP ({:.1}%)", 100.0 * d.gp_accuracy))
            .legend(seg(okabe_ito::VERMILLION, 2));
        ch.draw_series(LineSeries::new(vec![(x0, 100.0 * d.gd_accuracy), (x1, 100.0 * d.gd_accuracy)], okabe_ito::GREY.stroke_width(2)))?
            .label(format!("GD network ({:.1}%)", 100.0 * d.gd_accuracy))
            .legend(seg(okabe_ito::GREY, 2));
        let th: Vec<(f64, f64)> = d.theory.iter().map(|t| (t.0, 100.0 * t.1)).collect();
        ch.draw_series(dashed(th.clone(), okabe_ito::BLUE, 2))?.label(format!("theory (τ = {})", d.tau)).legend(seg(okabe_ito::BLUE, 2));
        ch.draw_series(th.iter().map(|&p| Cross::new(p, 6, okabe_ito::BLUE.stroke_width(2))))?;
        ch.draw_series(std::iter::once(Circle::new((self.cfg.small_width as f64, 100.0 * d.acc_samples), 5, BLACK.filled())))?
            .label("Gibbs samples")
            .legend(|(x, y)| Circle::new((x + 9, y), 4, BLACK.filled()));
        legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        // (b–d) U heat maps.
        let names: Vec<String> = (0..16).map(|p| format!("{}{}", p / 4, p % 4)).collect();
        let nm: Vec<&str> = names.iter().map(String::as_str).collect();
        let order: Vec<usize> = (0..16).collect();
        let n = self.cfg.small_width;
        matrix_panel(&tops[0], &format!("(b) theory U, N = {n}"), &d.u_theory, &nm, &order)?;
        matrix_panel(&tops[1], &format!("(c) Gibbs-sampled U, N = {n}"), &d.u_sampled, &nm, &order)?;
        matrix_panel(&tops[2], "(d) GD network: aᵀV²V¹ overlaps", &d.u_gd, &nm, &order)?;
        // (e) head scores and drops.
        let k = d.head_scores.len();
        let drops: Vec<f64> = d.single_prune.iter().map(|a| 100.0 * (d.gd_accuracy - a)).collect();
        let dmax = drops.iter().copied().fold(1.0, f64::max) * 1.15;
        let mut ch = ChartBuilder::on(&bots[1])
            .caption("(e) head score vs GD drop", (crate::style::FONT, 18))
            .margin(8)
            .x_label_area_size(42)
            .y_label_area_size(56)
            .right_y_label_area_size(56)
            .build_cartesian_2d(0.0..k as f64, 0.0..1.1)?
            .set_secondary_coord(0.0..k as f64, 0.0..dmax);
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
            .label_style((crate::style::FONT, 12))
            .axis_desc_style((crate::style::FONT, 14))
            .draw()?;
        ch.configure_secondary_axes().y_desc("accuracy drop when pruned (points)").label_style((crate::style::FONT, 12)).axis_desc_style((crate::style::FONT, 14)).draw()?;
        ch.draw_series(d.head_scores.iter().enumerate().map(|(i, h)| Rectangle::new([(i as f64 + 0.2, 0.0), (i as f64 + 0.8, h.score)], okabe_ito::SKY.filled())))?
            .label("head score (theory, N = 10)")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], okabe_ito::SKY.filled()));
        ch.draw_secondary_series(drops.iter().enumerate().map(|(i, &v)| Circle::new((i as f64 + 0.5, v.max(0.0)), 5, okabe_ito::VERMILLION.filled())))?
            .label("GD drop (right axis)")
            .legend(|(x, y)| Circle::new((x + 6, y), 4, okabe_ito::VERMILLION.filled()));
        ch.configure_series_labels().position(SeriesLabelPosition::UpperLeft).background_style(WHITE.mix(0.85)).border_style(okabe_ito::GREY).label_font((crate::style::FONT, 12)).draw()?;
        // (f) cumulative pruning.
        let cum: Vec<(f64, f64)> = d.cumulative_prune.iter().enumerate().map(|(i, a)| (i as f64, 100.0 * a)).collect();
        let lo = cum.iter().map(|p| p.1).fold(100.0, f64::min) - 3.0;
        let mut ch = panel(&bots[2], "(f) GD accuracy, pruning in ascending score", -0.3..k as f64 + 0.3, lo.max(0.0)..101.0, "heads pruned", "test accuracy (%)")?;
        ch.draw_series(LineSeries::new(cum.clone(), BLACK.stroke_width(2)))?.label("GD network").legend(seg(BLACK, 2));
        ch.draw_series(cum.iter().map(|&p| Circle::new(p, 4, BLACK.filled())))?;
        ch.draw_series(LineSeries::new(vec![(-0.3, 50.0), (k as f64 + 0.3, 50.0)], okabe_ito::GREY.stroke_width(1)))?.label("chance").legend(seg(okabe_ito::GREY, 1));
        legend(&mut ch, SeriesLabelPosition::LowerLeft)?;
        Ok(())
    }
}
