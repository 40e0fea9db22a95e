//! Claims of `markov.train.attention` (spec §5 F13, F14; §3 "attention at convergence \[rebuttal\]"):
//! - `markov.train.attention.F13.rise`: ‖Attn out‖/‖x + Attn out‖ rises above its value at
//!   initialisation within the first [`F13_ITERS`] iterations (proportion of seeds);
//! - `markov.train.attention.F13.decay`: it rises and then falls back: at the end it is ≤
//!   [`RATIO_TOL`] *and* its peak exceeded the final value by more than [`RATIO_TOL`] (proportion
//!   of seeds; a ratio that never grew cannot pass);
//! - `markov.train.attention.F14.uniform` (control): row n of the trained attention matrix is
//!   uniform over the prefix (mean total-variation distance from 1/n ≈ 0, ±[`TV_TOL`]). The pattern
//!   is already uniform at initialisation (small weights give near-equal scores), so this row cannot
//!   confirm F14: it checks the probe, not the paper.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};
use attnlab_core::{MeanSe, ResultRecord};

use crate::markov::experiments::PAPER;
use crate::markov::experiments::train::attention::{AttentionData, Config, ID, ratio_curve};

/// Iterations of F13's own panel (the reference plots the first 200).
pub const F13_ITERS: usize = 200;
/// Tolerance on the final attention-output ratio (claim: it decays towards 0).
pub const RATIO_TOL: f64 = 0.05;
/// Tolerance on the mean total-variation distance of a row from uniform (claim: row n ≈ 1/n).
pub const TV_TOL: f64 = 0.1;

/// A per-seed outcome claim: the majority of seeds.
pub const MAJORITY: Rule = Rule::within(
    0.5,
    1.0,
    "the paper draws typical runs: the behaviour must be the majority outcome (Wilson interval above 1/2)",
);
/// F14's uniformity: TV ≤ [`TV_TOL`].
pub const UNIFORM: Rule = Rule::abs(
    TV_TOL,
    "a mean TV distance of 0.1 from 1/n is visibly uniform in the F14 panel; fixed with the first version of the claim",
);

/// Mean total-variation distance between row n of a causal attention matrix and the uniform law
/// 1/n over its n visible keys, over rows 2..=side (row 1 is trivially uniform).
pub fn tv_from_uniform(att: &[Vec<f64>]) -> f64 {
    let rows: Vec<f64> = att
        .iter()
        .enumerate()
        .skip(1)
        .map(|(n, row)| {
            let u = 1.0 / (n + 1) as f64;
            0.5 * row[..=n].iter().map(|a| (a - u).abs()).sum::<f64>()
        })
        .collect();
    rows.iter().sum::<f64>() / rows.len().max(1) as f64
}

/// The judgements of the attention probes.
pub fn judge(rec: &ResultRecord<Config, AttentionData>) -> Vec<Judgement> {
    let os = &rec.result.outcomes;
    let Some(c) = rec.config.runs.first() else { return Vec::new() };
    let setting = format!(
        "theory model (§2a), tied, d {}, N {}, {} iterations, p = 0.2, q = 0.3, {} seeds",
        c.d,
        c.seq_len,
        c.iters,
        os.len()
    );
    let mut js = Vec::new();
    // F13, rise: the ratio at its peak within the first 200 iterations exceeds its value at init.
    let rose: Vec<bool> = os
        .iter()
        .map(|o| {
            let r = ratio_curve(o);
            let init = r.first().map_or(f64::NAN, |p| p.1);
            r.iter().filter(|p| p.0 <= F13_ITERS as f64).any(|p| p.1 > init)
        })
        .collect();
    js.push(Judgement::new(
        Claim::new(
            &format!("{ID}.F13.rise"),
            PAPER,
            Kind::Reproduction,
            format!(
                "‖Attn out‖/‖x + Attn out‖ rises above its value at initialisation within the first {F13_ITERS} iterations ({}/{} seeds; {setting})",
                rose.iter().filter(|&&b| b).count(),
                rose.len()
            ),
            "§5 F13",
        ),
        Some(1.0),
        Observation::proportion(rose.iter().filter(|&&b| b).count(), rose.len()),
        MAJORITY,
        ID,
        "fraction of seeds",
    ));
    // F13, decay: the output rose and then became negligible (a ratio that never grew fails).
    let finals: Vec<f64> = os.iter().filter_map(|o| ratio_curve(o).last().map(|p| p.1)).collect();
    let peaks: Vec<f64> = os.iter().map(|o| ratio_curve(o).iter().map(|p| p.1).fold(0.0, f64::max)).collect();
    let decayed = finals.iter().zip(&peaks).filter(|&(f, p)| *f <= RATIO_TOL && p - f > RATIO_TOL).count();
    js.push(Judgement::new(
        Claim::new(
            &format!("{ID}.F13.decay"),
            PAPER,
            Kind::Reproduction,
            format!(
                "the attention output rises and then becomes negligible: final ‖Attn out‖/‖x + Attn out‖ ≤ {RATIO_TOL} and at least {RATIO_TOL} below its peak ({decayed}/{} seeds); per seed final [{}], peak [{}] ({setting})",
                finals.len(),
                finals.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", "),
                peaks.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ")
            ),
            "§3 attention at convergence [rebuttal], §5 F13",
        ),
        Some(1.0),
        Observation::proportion(decayed, finals.len()),
        MAJORITY,
        ID,
        "fraction of seeds",
    ));
    // F14: the pattern is uniform over the prefix.
    let tvs: Vec<f64> = os.iter().filter_map(|o| o.attention.as_deref().map(tv_from_uniform)).collect();
    let side = os.first().and_then(|o| o.attention.as_ref().map(Vec::len)).unwrap_or(0);
    js.push(Judgement::new(
        Claim::new(
            &format!("{ID}.F14.uniform"),
            PAPER,
            Kind::Control,
            format!(
                "probe control (uniform already at initialisation, so no evidence for F14): row n of the trained attention matrix is uniform over the prefix (1/n): mean total-variation distance from \
                 uniform over rows 2..{side} of a held-out sequence ≈ 0 (±{TV_TOL}); per seed [{}] ({setting})",
                tvs.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ")
            ),
            "§3 attention at convergence [rebuttal], §5 F14",
        ),
        Some(0.0),
        Observation::mean(MeanSe::of(&tvs)),
        UNIFORM,
        ID,
        "TV distance",
    ));
    js
}
