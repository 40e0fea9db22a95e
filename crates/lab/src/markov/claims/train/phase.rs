//! Claims of `markov.train.phase` (spec §3 T1–T3, §5 F8): over the (p, q) grid the theorems predict
//! "stuck at U" for the tied model above p+q = 1 and "reaches H*" everywhere else; the F8 claims ask
//! the same of the predicted transition probabilities. One claim per (model, side of the line),
//! judged on the fraction of cells that behave as predicted (1 ± 0.1):
//! - `markov.train.phase.theory.tied.above`, `markov.train.phase.theory.tied.below`,
//!   `markov.train.phase.theory.untied.above`, `markov.train.phase.theory.untied.below`,
//!   `markov.train.phase.gpt.tied.above`, `markov.train.phase.gpt.tied.below`,
//!   `markov.train.phase.gpt.untied.above`, `markov.train.phase.gpt.untied.below`;
//! - `markov.train.phase.F8.theory.tied.above`, `markov.train.phase.F8.theory.tied.below`,
//!   `markov.train.phase.F8.theory.untied.above`, `markov.train.phase.F8.theory.untied.below`,
//!   `markov.train.phase.F8.gpt.tied.above`, `markov.train.phase.F8.gpt.tied.below`,
//!   `markov.train.phase.F8.gpt.untied.above`, `markov.train.phase.F8.gpt.untied.below`.
//!
//! The per-cell statistics the claims judge ([`position`], [`plateau`], [`transition_error`]) are
//! the ones the figure draws.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_core::ResultRecord;
use attnlab_trainer::train::PROB_BAND;
use attnlab_trainer::{Data, PlateauLength, TrainOutcome};

use crate::markov::experiments::PAPER;
use crate::markov::experiments::train::phase::{Config, ID, PhaseData};

/// Cells with U − H* below this cannot tell the two apart: they are left out of the claims (and
/// drawn grey).
pub const MIN_GAP: f64 = 0.03;

/// Position of the final loss between H* (0) and U (1), mean over seeds; NaN where U − H* < MIN_GAP.
pub fn position(os: &[TrainOutcome]) -> f64 {
    let Some(o) = os.first() else { return f64::NAN };
    let gap = o.unigram_loss - o.entropy_rate;
    let finals: Vec<f64> = os.iter().filter_map(|o| o.final_loss).collect();
    if gap < MIN_GAP || finals.is_empty() {
        return f64::NAN;
    }
    finals.iter().map(|l| (l - o.entropy_rate) / gap).sum::<f64>() / finals.len() as f64
}

/// Plateau at U as a fraction of the run (never left = 1), mean over seeds; NaN where U − H* < MIN_GAP.
pub fn plateau(os: &[TrainOutcome]) -> f64 {
    let Some(o) = os.first() else { return f64::NAN };
    if o.unigram_loss - o.entropy_rate < MIN_GAP {
        return f64::NAN;
    }
    let f = |o: &TrainOutcome| match o.plateau.length() {
        PlateauLength::NeverEntered => 0.0,
        PlateauLength::NeverLeft { entered } => (o.config.iters - entered) as f64 / o.config.iters as f64,
        PlateauLength::Iters(n) => n as f64 / o.config.iters as f64,
    };
    os.iter().map(f).sum::<f64>() / os.len() as f64
}

/// Distances of a run's final P̂(1 | 0), P̂(1 | 1) from the chain (p, 1 − q) and from the unigram
/// predictor (π1, π1): the larger of the two states' errors for each.
fn transition_errors(o: &TrainOutcome) -> Option<(f64, f64)> {
    let (a, b, pi1) = (o.p1_given_0?, o.p1_given_1?, o.pi1?);
    let Data::Binary { chain, .. } = &o.config.data else { return None };
    let truth = (a - chain.p()).abs().max((b - (1.0 - chain.q())).abs());
    let unigram = (a - pi1).abs().max((b - pi1).abs());
    Some((truth, unigram))
}

/// F8: the error to the chain, mean over seeds (NaN where U − H* < MIN_GAP, as in the other rows).
pub fn transition_error(os: &[TrainOutcome]) -> f64 {
    let Some(o) = os.first() else { return f64::NAN };
    let errs: Vec<f64> = os.iter().filter_map(|o| transition_errors(o).map(|e| e.0)).collect();
    if o.unigram_loss - o.entropy_rate < MIN_GAP || errs.is_empty() {
        return f64::NAN;
    }
    errs.iter().sum::<f64>() / errs.len() as f64
}

/// One claim per (model, side of p+q = 1): the theorems predict "stuck at U" for the tied model
/// above the line and "reaches H*" everywhere else. `cell(outcomes, expect_u)` says whether a cell
/// behaves as predicted and describes the test (None: the cell cannot tell, e.g. U − H* < MIN_GAP);
/// the observation is the fraction of cells that do, judged against 1 ± 0.1.
fn side_claims(
    cfg: &Config,
    data: &PhaseData,
    prefix: &str,
    source: &str,
    cell: impl Fn(&[TrainOutcome], bool) -> Option<(bool, String)>,
) -> Vec<Judgement> {
    let mut js = Vec::new();
    for (m, &(arch, tying)) in cfg.models.iter().enumerate() {
        for above in [true, false] {
            let expect_u = tying && above;
            let (mut hit, mut total, mut what) = (0usize, 0usize, String::new());
            for (i, &p) in cfg.grid.iter().enumerate() {
                for (j, &q) in cfg.grid.iter().enumerate() {
                    if (p + q > 1.0) != above || (p + q - 1.0).abs() < 1e-9 {
                        continue;
                    }
                    if let Some((ok, w)) = cell(&data.cells[m][i][j], expect_u) {
                        total += 1;
                        hit += usize::from(ok);
                        what = w;
                    }
                }
            }
            if total == 0 {
                continue;
            }
            let side = if above { "p+q > 1" } else { "p+q < 1" };
            let tied = if tying { "tied" } else { "untied" };
            let base = cfg.base(arch);
            js.push(Judgement::new(
                Claim::new(
                    &format!("{ID}.{prefix}{}.{tied}.{}", arch.name(), if above { "above" } else { "below" }),
                    PAPER,
                    format!(
                        "{} model, {tied}, {side}: {what} in every grid cell with U − H* ≥ {MIN_GAP} ({hit}/{total} cells; N {}, {} iterations, {} seeds)",
                        arch.name(),
                        base.seq_len,
                        base.iters,
                        cfg.seeds
                    ),
                    source,
                ),
                1.0,
                Observation::fraction(hit, total),
                Tolerance::Absolute(0.1),
                ID,
                "fraction of cells",
            ));
        }
    }
    js
}

/// The judgements of the phase diagrams: the loss claims, then the F8 claims.
pub fn judge(rec: &ResultRecord<Config, PhaseData>) -> Vec<Judgement> {
    let (cfg, data) = (&rec.config, &rec.result);
    let mut js = side_claims(cfg, data, "", "§3 T1–T3 (theory model); §5 F8 (GPT-style)", |os, expect_u| {
        let r = position(os);
        let what = if expect_u { "the seed-mean final loss stays near U (position > 0.75)" } else { "the seed-mean final loss reaches H* (position < 0.25)" };
        (!r.is_nan()).then(|| ((expect_u && r > 0.75) || (!expect_u && r < 0.25), what.to_string()))
    });
    // F8: the predicted transition probabilities match the chain (spec §6 probability band), except
    // tied with p+q > 1 where the paper's panel shows them pulled towards the unigram value π1.
    let band = PROB_BAND.half_width(0.0);
    js.extend(side_claims(cfg, data, "F8.", "§5 F8", |os, expect_u| {
        if transition_error(os).is_nan() {
            return None;
        }
        let errs: Vec<(f64, f64)> = os.iter().filter_map(transition_errors).collect();
        let mean = |f: fn(&(f64, f64)) -> f64| errs.iter().map(f).sum::<f64>() / errs.len() as f64;
        let (to_chain, to_unigram) = (mean(|e| e.0), mean(|e| e.1));
        Some(if expect_u {
            (to_unigram < to_chain, "the final predicted transition probability (seed mean) is closer to the unigram predictor (π1, π1) than to the chain (p, 1 − q)".into())
        } else {
            (PROB_BAND.admits(0.0, to_chain), format!("the final predicted transition probability (seed mean) matches the chain: |P̂(1|0) − p| and |P̂(1|1) − (1 − q)| ≤ {band}"))
        })
    }));
    js
}
