//! Claims of the hidden-Markov-chain task (spec §5, §6; Fig 2c, 2d, 2e and the pre-kernels), judged
//! from the `markov_task` experiment's record. `N` below is each Gibbs-sampled width (10 in fast
//! mode; 10, 30, 100 in full mode).
//!
//! Fig 2c (4 paths), [`fig2c_accuracy`]:
//! - `paths.fig2c.theory-above-gp`, `paths.fig2c.theory-monotone`, `paths.fig2c.gp-limit`,
//!   `paths.fig2c.theory-near-gd`;
//! - `paths.fig2c.samples-accuracy.N10`, `paths.fig2c.samples-correlation.N10`,
//!   `paths.fig2c.samples-U.N10` (and `.N30`, `.N100`: `paths.fig2c.samples-accuracy.N30`,
//!   `paths.fig2c.samples-correlation.N30`, `paths.fig2c.samples-U.N30`,
//!   `paths.fig2c.samples-accuracy.N100`, `paths.fig2c.samples-correlation.N100`,
//!   `paths.fig2c.samples-U.N100`).
//!
//! Fig 2c bottom (order parameter), [`fig2c_order`]:
//! - `paths.fig2c.order.pattern`, `paths.fig2c.order.to-identity`;
//! - `paths.fig2c.order.U-gg.N10`, `paths.fig2c.order.U-dd.N10`, `paths.fig2c.order.U-gd.N10`,
//!   `paths.fig2c.order.U-gg.N30`, `paths.fig2c.order.U-dd.N30`, `paths.fig2c.order.U-gd.N30`,
//!   `paths.fig2c.order.U-gg.N100`, `paths.fig2c.order.U-dd.N100`, `paths.fig2c.order.U-gd.N100`.
//!
//! Fig 2d, [`fig2d_alignment`]: `paths.fig2d.alignment`.
//!
//! Fig 2e (2 paths, σ⊥ = 5), [`fig2e_accuracy`]:
//! - `paths.fig2e.theory-above-gp`, `paths.fig2e.theory-monotone`, `paths.fig2e.gp-limit`,
//!   `paths.fig2e.negative-gd`;
//! - `paths.fig2e.samples-accuracy.N10`, `paths.fig2e.samples-correlation.N10`,
//!   `paths.fig2e.samples-U.N10`, `paths.fig2e.samples-accuracy.N30`,
//!   `paths.fig2e.samples-correlation.N30`, `paths.fig2e.samples-U.N30`,
//!   `paths.fig2e.samples-accuracy.N100`, `paths.fig2e.samples-correlation.N100`,
//!   `paths.fig2e.samples-U.N100`.
//!
//! Pre-kernels, [`kernels_block`]: `paths.kernels.block`.
//!
//! Every function takes the figure id `fig` its judgements are drawn in.

use attnlab_comparator::{Judgement, Kind, Observation, Rule};
use attnlab_core::MeanSe;

use super::{FINITE_N_GAP, SAMPLES_ACCURACY, SAMPLES_CORRELATION, check, claim};

/// The family-wise level of the monotonicity claim's paired tests.
pub const MONOTONE_ALPHA: f64 = 0.05;
/// Monotone theory accuracy: no significant rise between neighbouring widths.
pub const MONOTONE: Rule = Rule::within(
    0.0,
    0.0,
    "the theory predicts accuracy falling with N; accuracies on one shared test set are compared pairwise (exact McNemar, α = 0.05 Bonferroni over the neighbouring pairs): no significant rise may remain",
);
use crate::paths::experiments::markov_task::{Config, Data, SampleSummary};

/// The mean over independent chains of each chain's mean-predictor accuracy, with the t interval
/// of that mean (chains − 1 degrees of freedom): centred on what the per-chain spread describes.
/// (The pooled predictor's accuracy, the mean over every chain's samples, is a different number:
/// it is stated beside it, not used as the centre.)
fn chain_obs(s: &SampleSummary) -> Observation {
    Observation::mean(MeanSe::of(&s.chain_accuracy))
}

/// Theory-vs-samples claims at every sampled width (spec §6, §8.4).
fn sample_claims(prefix: &str, d: &Data, fig: &str) -> Vec<Judgement> {
    let mut js = Vec::new();
    for s in &d.samples {
        let n = s.width;
        js.push(Judgement::new(
            claim(
                &format!("{prefix}.samples-accuracy.N{n}"),
                Kind::Theorem,
                format!(
                    "test accuracy of the Gibbs-sampled mean predictor equals the theory's at N = {n}: each chain's mean predictor, mean over {} chains × {} samples after {} burn-in (the predictor pooled over all chains: {:.4}; min ESS {:.0}, max split-R̂ {:.3})",
                    s.chains, s.samples, s.burn_in, s.acc_samples, s.min_ess, s.max_rhat
                ),
                "§6, §8.4",
            ),
            Some(s.acc_theory),
            chain_obs(s),
            SAMPLES_ACCURACY,
            fig,
            "fraction",
        ));
        js.push(Judgement::new(
            claim(
                &format!("{prefix}.samples-correlation.N{n}"),
                Kind::Theorem,
                format!("correlation of sampled and theory mean predictors on 1000 test inputs at N = {n}"),
                "§6",
            ),
            Some(1.0),
            Observation::exact(s.corr),
            SAMPLES_CORRELATION,
            fig,
            "",
        ));
        js.push(Judgement::new(
            claim(
                &format!("{prefix}.samples-U.N{n}"),
                Kind::Theorem,
                format!(
                    "sampled U matches theory within the finite-N gap 1.5/N (spec §6, §10.10: ~13% at N = 10, ~2% at N = 50): relative Frobenius gap ‖U_s − U_t‖/‖U_t‖ at N = {n}"
                ),
                "§6, §8.4, §10.10",
            ),
            Some(0.0),
            Observation::t(s.rel_gap, s.rel_gap_se, s.chains.saturating_sub(1), s.chains),
            Rule::abs(1.5 / n as f64, FINITE_N_GAP),
            fig,
            "",
        ));
    }
    js
}

fn acc_claims(prefix: &str, d: &Data, fig: &str) -> Vec<Judgement> {
    let finite: Vec<&attnlab_paths::markov_task::WidthResult> = d.theory.iter().filter(|r| r.width <= 1000.0).collect();
    let above = finite.iter().all(|r| r.test_accuracy > d.gp_accuracy);
    // Monotonicity on every width the experiment computes (its grid is fixed in the config, before
    // the run). An earlier version judged only the paper's coarser grid after the fine grid had shown
    // a bump: a post-hoc restriction, removed.
    // Monotonicity on every width the experiment computes (its grid is fixed in the config). The
    // accuracies share one test set, so a rise between neighbouring widths is tested with a paired
    // exact McNemar test on the test inputs whose verdict changes; it counts only when significant
    // at α = 0.05 after a Bonferroni correction over the pairs.
    let pairs = d.theory.len().saturating_sub(1).max(1);
    let alpha = MONOTONE_ALPHA / pairs as f64;
    let rises: Vec<(f64, f64, f64, f64, usize, usize, f64)> = d
        .theory
        .windows(2)
        .filter(|w| w[1].test_accuracy > w[0].test_accuracy + 1e-12)
        .map(|w| {
            let (b, c) = w[0].test_correct.iter().zip(&w[1].test_correct).fold((0, 0), |(b, c), (x, y)| match (x, y) {
                (true, false) => (b + 1, c),
                (false, true) => (b, c + 1),
                _ => (b, c),
            });
            let p = if w[0].test_correct.is_empty() { f64::NAN } else { attnlab_comparator::mcnemar_exact(b, c) };
            (w[0].width, w[0].test_accuracy, w[1].width, w[1].test_accuracy, b, c, p)
        })
        .collect();
    // A NaN p-value (no per-input record) counts as significant: it cannot be shown to be noise.
    let significant = rises.iter().filter(|r| r.6.is_nan() || r.6 < alpha).count();
    let bumps: Vec<String> = rises
        .iter()
        .map(|r| {
            format!(
                "{:.1}% at N = {} → {:.1}% at N = {} (discordant {} vs {}, McNemar p = {})",
                100.0 * r.1,
                r.0,
                100.0 * r.3,
                r.2,
                r.4,
                r.5,
                attnlab_comparator::fmt_num(r.6)
            )
        })
        .collect();
    let last = d.theory.last().map_or(f64::NAN, |r| r.test_accuracy);
    let first = d.theory.first().map_or(f64::NAN, |r| r.test_accuracy);
    let mut js = vec![
        check(
            &format!("{prefix}.theory-above-gp"),
            Kind::Theorem,
            format!(
                "theory accuracy exceeds the GP (all paths) accuracy {:.1}% at every N ≤ 1000 (N = {}: {:.1}%)",
                100.0 * d.gp_accuracy,
                finite.first().map_or(0.0, |r| r.width),
                100.0 * first
            ),
            "§7 Fig 2c/2e",
            above,
            fig,
        ),
        Judgement::new(
            claim(
                &format!("{prefix}.theory-monotone"),
                Kind::Theorem,
                format!(
                    "theory accuracy falls with N over all {} computed widths N = {}: no rise between neighbouring widths is significant by a paired exact McNemar test on the one shared test set (α = {MONOTONE_ALPHA}, Bonferroni over {pairs} pairs: p < {}). Significant rises: {significant}{}",
                    d.theory.len(),
                    d.theory.iter().map(|r| r.width.to_string()).collect::<Vec<_>>().join(", "),
                    attnlab_comparator::fmt_num(alpha),
                    if bumps.is_empty() {
                        "; no rise at all".to_string()
                    } else {
                        format!("; rises: {}", bumps.join(", "))
                    }
                ),
                "§7 Fig 2c",
            ),
            Some(0.0),
            Observation::exact(significant as f64),
            MONOTONE,
            fig,
            "significant rises",
        ),
        Judgement::new(
            claim(
                &format!("{prefix}.gp-limit"),
                Kind::Control,
                format!(
                    "theory accuracy at N = {} tends to the GP (all paths) accuracy: a control of the solver, as the theory's kernel tends to the GP kernel as N → ∞ by construction",
                    d.theory.last().map_or(0.0, |r| r.width)
                ),
                "§3 Role of α",
            ),
            Some(d.gp_accuracy),
            Observation::exact(last),
            Rule::abs(
                0.005,
                "half a point of test accuracy (5 of 1000 test inputs), fixed with the first version of the claim",
            ),
            fig,
            "fraction",
        ),
    ];
    js.extend(sample_claims(prefix, d, fig));
    js
}

/// Fig 2c top (4 paths): theory vs GP, monotonicity, GP limit, near the good+denoising line, and
/// theory vs Gibbs samples at every sampled width.
pub fn fig2c_accuracy(d: &Data, fig: &str) -> Vec<Judgement> {
    let mut js = acc_claims("paths.fig2c", d, fig);
    let first = d.theory.first().map_or(f64::NAN, |r| r.test_accuracy);
    js.push(check(
        "paths.fig2c.theory-near-gd",
        Kind::Theorem,
        format!(
            "at N = {} the theory accuracy ({:.1}%) is near or above the GP good+denoising line ({:.1}%): ≥ GP_gd − 1 point",
            d.theory[0].width,
            100.0 * first,
            100.0 * d.gp_good_denoising
        ),
        "§7 Fig 2c",
        first >= d.gp_good_denoising - 0.01,
        fig,
    ));
    js
}

/// Fig 2e (2 paths, σ⊥ = 5): as Fig 2c, plus the negative g–d cross weight.
pub fn fig2e_accuracy(d: &Data, fig: &str) -> Vec<Judgement> {
    let mut js = acc_claims("paths.fig2e", d, fig);
    let ugd = d.theory[0].u[0][0][1];
    js.push(check(
        "paths.fig2e.negative-gd",
        Kind::Theorem,
        format!("the g–d cross weight U_gd is negative at N = {} ({:.3}; spec §8.5's independent draw: −1.79) and tends to 0 as N grows ({:.3} at N = {})",
            d.theory[0].width, ugd, d.theory.last().map_or(f64::NAN, |r| r.u[0][0][1]), d.theory.last().map_or(0.0, |r| r.width)),
        "§5 Mechanism, §8.5",
        ugd < 0.0 && d.theory.last().is_some_and(|r| r.u[0][0][1].abs() < 0.05),
        fig,
    ));
    js
}

/// Fig 2c bottom: the pattern of U at N = 10, U → I, and sampled U entries against theory.
pub fn fig2c_order(d: &Data, fig: &str) -> Vec<Judgement> {
    let at = |n: f64| d.theory.iter().find(|r| r.width == n);
    let mut js = Vec::new();
    if let Some(r) = at(10.0) {
        let u = &r.u[0];
        let (gg, a1, dd, a2, gd) = (u[0][0], u[1][1], u[2][2], u[3][3], u[0][2]);
        js.push(check(
            "paths.fig2c.order.pattern",
            Kind::Theorem,
            format!(
                "at N = 10: large positive g,g ({gg:.2}) and d,d ({dd:.2}) above the adversarial a1 ({a1:.2}), a2 ({a2:.2}); negative g,d ({gd:.2}) (spec §8.5's draw: 14.47, 8.03, 0.57, 0.37, −3.77)"
            ),
            "§5 Mechanism, §7 Fig 2c",
            gg > a1.max(a2) && dd > a1.max(a2) && gd < 0.0 && a1 < 1.0 && a2 < 1.0,
            fig,
        ));
    }
    let dist: Vec<(f64, f64)> = d
        .theory
        .iter()
        .map(|r| {
            let n = r.u[0].len();
            let s: f64 = (0..n)
                .flat_map(|i| (0..n).map(move |j| (i, j)))
                .map(|(i, j)| (r.u[0][i][j] - if i == j { 1.0 } else { 0.0 }).powi(2))
                .sum();
            (r.width, s.sqrt())
        })
        .collect();
    js.push(check(
        "paths.fig2c.order.to-identity",
        Kind::Theorem,
        format!(
            "‖U − I‖_F decreases monotonically with N towards the GP value I ({:.3} at N = {} → {:.4} at N = {})",
            dist[0].1,
            dist[0].0,
            dist[dist.len() - 1].1,
            dist[dist.len() - 1].0
        ),
        "§3 Role of α, §7 Fig 2c",
        dist.windows(2).all(|w| w[1].1 < w[0].1),
        fig,
    ));
    for s in &d.samples {
        let n = s.width as f64;
        for (i, j, name) in [(0, 0, "g,g"), (2, 2, "d,d"), (0, 2, "g,d")] {
            js.push(Judgement::new(
                claim(
                    &format!("paths.fig2c.order.U-{}.N{}", name.replace(',', ""), s.width),
                    Kind::Theorem,
                    format!(
                        "sampled U_{name} at N = {} against theory, within the finite-N relative gap 1.5/N",
                        s.width
                    ),
                    "§6, §10.10",
                ),
                Some(s.u_theory[i][j]),
                Observation::t(s.u_sampled[i][j], s.u_se[i][j], s.chains.saturating_sub(1), s.chains),
                Rule::rel(1.5 / n, FINITE_N_GAP),
                fig,
                "",
            ));
        }
    }
    js
}

/// Fig 2d: label mass on the top kernel PCs, finite width vs GP.
pub fn fig2d_alignment(cfg: &Config, d: &Data, fig: &str) -> Vec<Judgement> {
    let mass = |v: &[f64], k: usize| v.iter().take(k).map(|x| x * x).sum::<f64>();
    let (mf, mg) = (mass(&d.align_finite, 5), mass(&d.align_gp, 5));
    vec![check(
        "paths.fig2d.alignment",
        Kind::Theorem,
        format!(
            "at N = {} the label mass on the top 5 kernel PCs, Σ overlap², exceeds the GP kernel's ({mf:.3} vs {mg:.3})",
            cfg.small_width
        ),
        "§4, §7 Fig 2d",
        mf > mg,
        fig,
    )]
}

/// Pre-kernels: class-block contrast of the finite-width kernel vs the GP kernel.
pub fn kernels_block(cfg: &Config, d: &Data, fig: &str) -> Vec<Judgement> {
    // Class-block contrast: (mean within-class − mean between-class) / mean |K| over the 50 examples
    // (first 25 of class +1, last 25 of class −1).
    let contrast = |k: &[Vec<f64>]| {
        let n = k.len();
        let (mut w, mut b, mut a, mut nw, mut nb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            for j in 0..n {
                if (i < n / 2) == (j < n / 2) {
                    w += k[i][j];
                    nw += 1.0;
                } else {
                    b += k[i][j];
                    nb += 1.0;
                }
                a += k[i][j].abs();
            }
        }
        (w / nw - b / nb) / (a / (n * n) as f64)
    };
    let m = d.kernels.len();
    let (cg, cf) = (contrast(&d.kernels[m - 2].1), contrast(&d.kernels[m - 1].1));
    vec![check(
        "paths.kernels.block",
        Kind::Theorem,
        format!(
            "the finite-width kernel (N = {}) shows a stronger class-block structure than the GP kernel: (within − between)/mean|K| = {cf:.3} vs {cg:.3}",
            cfg.small_width
        ),
        "§7 (app.) pre-kernels",
        cf > cg,
        fig,
    )]
}
