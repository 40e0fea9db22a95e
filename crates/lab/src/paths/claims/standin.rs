//! Claims of the image-free stand-in for Fig 3 (spec §5, §6, §7), judged from the `standin`
//! experiment's record at the small width N = 10, in [`judge`]:
//! - `paths.fig3.standin.theory-above-gp`: theory accuracy above the GP's (Fig 3b);
//! - `paths.fig3.standin.samples-accuracy`, `paths.fig3.standin.samples-correlation`,
//!   `paths.fig3.standin.samples-U`: Gibbs samples against the theory (§6);
//! - `paths.fig3c.gd-pattern`: the GD network's path overlaps follow the theory's U (Fig 3c);
//! - `paths.fig3e.score-vs-drop`: head score against the accuracy drop when a head is pruned (Fig 3e);
//! - `paths.fig3f.flat`: pruning the two lowest-score heads costs at most 2 points (Fig 3f).

use attnlab_comparator::{Judgement, Observation, Tolerance};
use attnlab_core::MeanSe;
use attnlab_paths::predict::correlation;

use super::{check, claim};
use crate::paths::experiments::standin::{Config, Data};

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

/// The stand-in's claims (Fig 3b, 3c, 3e, 3f), drawn in figure `fig`.
pub fn judge(cfg: &Config, d: &Data, fig: &str) -> Vec<Judgement> {
    let n = cfg.small_width;
    let th_small = d.theory.iter().find(|t| t.0 == n as f64).map_or(f64::NAN, |t| t.1);
    let drops: Vec<f64> = d.single_prune.iter().map(|a| d.gd_accuracy - a).collect();
    let scores: Vec<f64> = d.head_scores.iter().map(|h| h.score).collect();
    let rho = spearman(&scores, &drops);
    let corr_gd = correlation(&upper(&d.u_theory).iter().map(|v| v.abs()).collect::<Vec<_>>(), &upper(&d.u_gd).iter().map(|v| v.abs()).collect::<Vec<_>>());
    let corr_s = correlation(&upper(&d.u_theory), &upper(&d.u_sampled));
    let flat2 = d.cumulative_prune.get(2).copied().unwrap_or(f64::NAN);
    let m = MeanSe::of(&d.chain_accuracy);
    vec![
        check(
            "paths.fig3.standin.theory-above-gp",
            format!("with the GD-trained frozen heads, theory accuracy at N = {n} ({:.1}%) exceeds the GP accuracy ({:.1}%) (τ = {} chosen on a validation set)", 100.0 * th_small, 100.0 * d.gp_accuracy, d.tau),
            "§7 Fig 3b",
            th_small > d.gp_accuracy,
            fig,
        ),
        Judgement::new(
            claim("paths.fig3.standin.samples-accuracy", format!("Gibbs-sampled mean-predictor accuracy equals the theory's at N = {n} (16 paths; min ESS {:.0}, max split-R̂ {:.3})", d.diagnostics.0, d.diagnostics.1), "§6"),
            th_small,
            Observation { value: d.acc_samples, se: m.se, n: m.n },
            Tolerance::Absolute(0.01),
            fig,
            "fraction",
        ),
        Judgement::new(
            claim("paths.fig3.standin.samples-correlation", format!("correlation of sampled and theory mean predictors at N = {n}"), "§6"),
            1.0,
            Observation::exact(d.corr),
            Tolerance::Absolute(0.01),
            fig,
            "",
        ),
        Judgement::new(
            claim("paths.fig3.standin.samples-U", format!("sampled 16 × 16 U matches theory within 1.5/N at N = {n}: ‖U_s − U_t‖/‖U_t‖ (entry correlation {corr_s:.3})"), "§6, §10.10"),
            0.0,
            Observation { value: d.rel_gap.0, se: d.rel_gap.1, n: cfg.chains },
            Tolerance::Absolute(1.5 / n as f64),
            fig,
            "",
        ),
        check(
            "paths.fig3c.gd-pattern",
            format!("the GD network's path overlaps show the theory's pattern: correlation of |U| entries (theory N = {n} vs GD) = {corr_gd:.3} > 0.5"),
            "§7 Fig 3c",
            corr_gd > 0.5,
            fig,
        ),
        check(
            "paths.fig3e.score-vs-drop",
            format!("low head score ⇒ small accuracy drop when that head is pruned from the GD network: Spearman correlation of scores and drops = {rho:.3} > 0"),
            "§7 Fig 3e",
            rho > 0.0,
            fig,
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
            fig,
        ),
    ]
}
