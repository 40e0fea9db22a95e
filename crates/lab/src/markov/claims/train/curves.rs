//! Claims of the group-curve experiments `markov.train.{theory,tying,depth,memory,states}` (spec §5
//! F3–F7, F9, F10, F12, F15, F16; §4b). Each run ends at H* or stuck at U or neither (spec §6: final
//! held-out loss within 0.01 of H* or U), so the loss claim of a group is a *proportion*: the
//! fraction of its seeds whose ending is the one claimed, with its Wilson interval, against "a
//! majority of runs" (the paper draws typical runs; it predicts no rate). A mean of bimodal losses
//! would say nothing. For binary data the `.est` claim asks the model's P̂(1 | state 0) at the first
//! occurrences of state 0 (mean over seeds, Student-t) to sit at p or at π1 accordingly (band ±0.02).
//! What each group is claimed to reach ([`expectation`]) and the claim's kind — `theorem` for the
//! theory model of §2a (T2, T3), `reproduction` for a paper figure's behaviour on the GPT-style or
//! MLP model — are stated here, keyed by the group's tag.
//!
//! Claim ids (the expected end and the source in brackets; multi-state data has no `.est` claim):
//! - `markov.train.theory.theory.p0.7-q0.6.tied`, `markov.train.theory.theory.p0.7-q0.6.tied.est` (U, T2)
//! - `markov.train.theory.theory.p0.7-q0.6.untied`, `markov.train.theory.theory.p0.7-q0.6.untied.est` (H*, T3)
//! - `markov.train.theory.theory.p0.15-q0.35.tied`, `markov.train.theory.theory.p0.15-q0.35.tied.est` (H*, T3 (p+q < 1))
//! - `markov.train.theory.mlp.p0.5-q0.8.tied`, `markov.train.theory.mlp.p0.5-q0.8.tied.est` (U, F15)
//! - `markov.train.theory.mlp.p0.5-q0.8.untied`, `markov.train.theory.mlp.p0.5-q0.8.untied.est` (H*, F15)
//! - `markov.train.tying.p0.2-q0.3.tied`, `markov.train.tying.p0.2-q0.3.tied.est` (H*, F4)
//! - `markov.train.tying.p0.2-q0.3.untied`, `markov.train.tying.p0.2-q0.3.untied.est` (H*, F4)
//! - `markov.train.tying.p0.5-q0.8.tied`, `markov.train.tying.p0.5-q0.8.tied.est` (U, F6/F7)
//! - `markov.train.tying.p0.5-q0.8.untied`, `markov.train.tying.p0.5-q0.8.untied.est` (H*, F6)
//! - `markov.train.depth.L1`, `markov.train.depth.L1.est` (U, F3)
//! - `markov.train.depth.L2`, `markov.train.depth.L2.est` (H*, F3)
//! - `markov.train.depth.L4`, `markov.train.depth.L4.est` (H*, F3)
//! - `markov.train.depth.L8`, `markov.train.depth.L8.est` (H*, F3)
//! - `markov.train.memory.m2`, `markov.train.memory.m2.est` (H*, F9 \[inferred\])
//! - `markov.train.memory.m40`, `markov.train.memory.m40.est` (U, F9 \[inferred\])
//! - `markov.train.memory.m80`, `markov.train.memory.m80.est` (U, F9 \[inferred\])
//! - `markov.train.memory.m100`, `markov.train.memory.m100.est` (U, F9 \[inferred\])
//! - `markov.train.memory.full`, `markov.train.memory.full.est` (U, §4, F10 \[recalled\])
//! - `markov.train.memory.full.L4`, `markov.train.memory.full.L8` (U, §4, F10 \[recalled\]; one
//!   run each, as in the paper: the claim judges that run's final loss with [`ONE_RUN`]; no `.est`
//!   claim, since a mean over one run's estimates has no interval)
//! - `markov.train.states.V5.p0.1.tied` (H*, F16)
//! - `markov.train.states.V5.p0.1.untied` (H*, F16)
//! - `markov.train.states.V5.p0.3.tied` (H*, F16)
//! - `markov.train.states.V5.p0.3.untied` (H*, F16)
//! - `markov.train.states.V5.p0.6.tied` (H*, F16)
//! - `markov.train.states.V5.p0.6.untied` (H*, F16)
//! - `markov.train.states.V5.p0.9.tied` (U, F16 \[inferred\])
//! - `markov.train.states.V5.p0.9.untied` (H*, F16)

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};
use attnlab_core::{ConfigError, MeanSe, ResultRecord};
use attnlab_trainer::TrainOutcome;

use super::ending::{BAND, Ending, Plateau, PlateauLength};

use crate::LabError;
use crate::markov::experiments::PAPER;
use crate::markov::experiments::train::curves::{Config, CurvesData, Group};
use crate::markov::experiments::train::{mean_estimate, true_p1_given_0};

/// What the paper (or the spec) says a group ends at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Reaches H*.
    Global,
    /// Stuck at U.
    Unigram,
}

/// What group `tag` of experiment `id` is claimed to end at, the claim's kind, and where it comes
/// from (spec section / paper figure or theorem); None for a group no claim covers. Claims about the
/// GPT-style model cite the paper's figure, not a theorem about the theory model.
pub fn expectation(id: &str, tag: &str) -> Option<(Expect, Kind, &'static str)> {
    use Expect::{Global, Unigram};
    use Kind::{Reproduction, Theorem};
    Some(match (id, tag) {
        ("markov.train.depth", "L1") => (Unigram, Reproduction, "§5 F3 (depth figure)"),
        ("markov.train.depth", "L2" | "L4" | "L8") => (Global, Reproduction, "§5 F3 (depth figure)"),
        ("markov.train.tying", "p0.2-q0.3.tied" | "p0.2-q0.3.untied") => (Global, Reproduction, "§5 F4"),
        ("markov.train.tying", "p0.5-q0.8.tied") => (Unigram, Reproduction, "§5 F6/F7"),
        ("markov.train.tying", "p0.5-q0.8.untied") => (Global, Reproduction, "§5 F6"),
        ("markov.train.theory", "theory.p0.7-q0.6.tied") => (Unigram, Theorem, "§3 T2 (theory model §2a)"),
        ("markov.train.theory", "theory.p0.7-q0.6.untied") => (Global, Theorem, "§3 T3 (theory model §2a)"),
        ("markov.train.theory", "theory.p0.15-q0.35.tied") => (Global, Theorem, "§3 T3, p+q < 1 (theory model §2a)"),
        ("markov.train.theory", "mlp.p0.5-q0.8.tied") => (Unigram, Reproduction, "§5 F15"),
        ("markov.train.theory", "mlp.p0.5-q0.8.untied") => (Global, Reproduction, "§5 F15"),
        ("markov.train.memory", "m2") => (Global, Reproduction, "§5 F9 [inferred]"),
        ("markov.train.memory", "m40" | "m80" | "m100") => (Unigram, Reproduction, "§5 F9 [inferred]"),
        ("markov.train.memory", "full" | "full.L4" | "full.L8") => (Unigram, Reproduction, "§4, §5 F10 [recalled]"),
        // p > (V − 1)/V = 0.8 is the multi-state analogue of p+q > 1: the spec infers the tied
        // model sticks near U there; everywhere else both reach H*.
        ("markov.train.states", "V5.p0.9.tied") => (Unigram, Reproduction, "§5 F16 [inferred]"),
        (
            "markov.train.states",
            "V5.p0.1.tied" | "V5.p0.1.untied" | "V5.p0.3.tied" | "V5.p0.3.untied" | "V5.p0.6.tied" | "V5.p0.6.untied"
            | "V5.p0.9.untied",
        ) => (Global, Reproduction, "§5 F16"),
        _ => return None,
    })
}

/// A group's loss claim: the proportion of its runs with the claimed ending, at least one half.
pub const MAJORITY: Rule = Rule::within(
    0.5,
    1.0,
    "the paper draws typical runs and states no rate: the claimed ending must be the majority outcome (Wilson interval above 1/2)",
);
/// A one-run group's loss claim (the paper draws one run per curve in F10): its final held-out loss
/// within the spec §6 band of the claimed line.
pub const ONE_RUN: Rule = Rule::abs(
    0.01,
    "spec §6 band (0.01 nats), for a group of one run as the paper draws it: a proportion of one run can never be told from one half, so the run's own final loss is judged, with the t interval over its held-out batches",
);
/// A group's `.est` claim: P̂(1 | 0) within 0.02 of p or π1.
pub const EST: Rule = Rule::abs(
    0.02,
    "spec §6 'stuck at unigram' criterion: predicted probabilities within ≈ 0.02 of π1 (used for p as well)",
);

/// The judgements of experiment `rec.id`: per group, the loss claim and (binary or lagged data)
/// the `.est` claim. A group without an [`expectation`] is a config error (naming its tag).
pub fn judge(rec: &ResultRecord<Config, CurvesData>) -> Result<Vec<Judgement>, LabError> {
    let id = rec.id.as_str();
    let mut js = Vec::new();
    for (p, outs) in rec.config.panels.iter().zip(&rec.result.outcomes) {
        for (g, os) in p.groups.iter().zip(outs) {
            let (expect, kind, source) = expectation(id, &g.tag).ok_or_else(|| {
                ConfigError::new(
                    "tag",
                    format!("{id}.{}", g.tag),
                    "names a group with a claim in claims::train::curves",
                )
            })?;
            js.extend(judge_group(id, g, os, expect, kind, source));
            js.extend(judge_estimates(id, g, os, expect, kind, source));
        }
    }
    Ok(js)
}

/// The Kaplan–Meier escape curve of a group: the estimated fraction of runs still on the plateau
/// at U (within 0.01 of U since first entering it) at each iteration, as a step function `(iteration,
/// fraction)` from (0, 1) to the last iteration. A run's escape time is the first evaluated
/// iteration after entering at which it is outside the band (0 if it never came near U); a run
/// still on the plateau at its end is censored there. With every run the same length the estimate
/// is the plain fraction, and the censoring is what keeps it honest when lengths differ.
pub fn escape_curve(os: &[TrainOutcome]) -> Vec<(f64, f64)> {
    escape_curve_of(&os.iter().map(|o| (Plateau::of_run(o), o.config.iters)).collect::<Vec<_>>())
}

/// [`escape_curve`] of runs given as (plateau, iterations).
fn escape_curve_of(runs: &[(Plateau, usize)]) -> Vec<(f64, f64)> {
    // (time, escaped = true | censored = false)
    let mut times: Vec<(usize, bool)> = runs
        .iter()
        .map(|&(plateau, iters)| match plateau.length() {
            PlateauLength::NeverEntered => (0, true),
            PlateauLength::NeverLeft { .. } => (iters, false),
            PlateauLength::Iters(_) => (plateau.left.unwrap_or(iters), true),
        })
        .collect();
    times.sort_unstable();
    let end = runs.iter().map(|r| r.1).max().unwrap_or(0) as f64;
    let mut curve = vec![(0.0, 1.0)];
    let mut s = 1.0;
    let mut at_risk = times.len();
    let mut i = 0;
    while i < times.len() {
        let t = times[i].0;
        let same: Vec<&(usize, bool)> = times[i..].iter().take_while(|x| x.0 == t).collect();
        let events = same.iter().filter(|x| x.1).count();
        if events > 0 && at_risk > 0 {
            curve.push((t as f64, s));
            s *= 1.0 - events as f64 / at_risk as f64;
            curve.push((t as f64, s));
        }
        at_risk -= same.len();
        i += same.len();
    }
    curve.push((end, s));
    curve
}

/// The spec §6 endings and plateau lengths of a group, in words.
fn describe(os: &[TrainOutcome]) -> String {
    let count = |v: Ending| os.iter().filter(|o| Ending::of(o) == v).count();
    let plateaus: Vec<String> = os
        .iter()
        .map(|o| match Plateau::of_run(o).length() {
            PlateauLength::NeverEntered => "0".into(),
            PlateauLength::NeverLeft { .. } => "never left".into(),
            PlateauLength::Iters(n) => n.to_string(),
        })
        .collect();
    format!(
        "per seed: {} global, {} unigram, {} neither, {} diverged; plateau at U: [{}]",
        count(Ending::Global),
        count(Ending::Unigram),
        count(Ending::Neither),
        count(Ending::Diverged),
        plateaus.join(", ")
    )
}

/// The spec §6 ending a run must have to count for `expect`.
pub fn claimed_ending(expect: Expect) -> Ending {
    match expect {
        Expect::Global => Ending::Global,
        Expect::Unigram => Ending::Unigram,
    }
}

/// The loss claim of a group: the proportion of runs whose spec §6 ending is the claimed one
/// (final held-out loss within 0.01 of H* or U), with its Wilson interval.
fn judge_group(
    id: &str,
    g: &Group,
    os: &[TrainOutcome],
    expect: Expect,
    kind: Kind,
    source: &str,
) -> Option<Judgement> {
    let first = os.first()?;
    let (target, name) = match expect {
        Expect::Global => (first.entropy_rate, "H*"),
        Expect::Unigram => (first.unigram_loss, "U"),
    };
    let c = &first.config;
    // The group and the sizes it ran at: "tied (gpt, d 8, L 1, N 1024, 400 iterations".
    let shape =
        format!("{} ({}, d {}, L {}, N {}, {} iterations", g.label, c.arch.name(), c.d, c.layers, c.seq_len, c.iters);
    if let ([_], Some(loss), Some(se)) = (os, first.final_loss, first.final_loss_se) {
        let statement = format!(
            "{shape}, one run as in the paper): the final held-out loss sits at {name} = {target:.4} (H* = {:.4}, U = {:.4}); it is {loss:.4} ± {se:.4} (SE over {} held-out batches); {}",
            first.entropy_rate,
            first.unigram_loss,
            c.final_batches,
            describe(os)
        );
        return Some(Judgement::new(
            Claim::new(&format!("{id}.{}", g.tag), PAPER, kind, statement, source),
            Some(target),
            Observation::t(loss, se, c.final_batches.saturating_sub(1).max(1), c.final_batches),
            ONE_RUN,
            id,
            "nats",
        ));
    }
    let hits = os.iter().filter(|o| Ending::of(o) == claimed_ending(expect)).count();
    let statement = format!(
        "{shape}, {} seeds): runs end at {name} = {target:.4} (within {} nats, spec §6; H* = {:.4}, U = {:.4}): {hits}/{} do; {}",
        os.len(),
        BAND.pass_interval(Some(0.0))[1],
        first.entropy_rate,
        first.unigram_loss,
        os.len(),
        describe(os)
    );
    Some(Judgement::new(
        Claim::new(&format!("{id}.{}", g.tag), PAPER, kind, statement, source),
        Some(1.0),
        Observation::proportion(hits, os.len()),
        MAJORITY,
        id,
        "fraction of runs",
    ))
}

/// The "est" claim of a group (F5, F7, F12): the model's P̂(1 | state 0) at the first occurrences
/// of state 0 in a held-out sequence sits at p when the loss claim says H*, at π1 when it says U.
fn judge_estimates(
    id: &str,
    g: &Group,
    os: &[TrainOutcome],
    expect: Expect,
    kind: Kind,
    source: &str,
) -> Option<Judgement> {
    let first = os.first()?;
    if os.len() < 2 {
        return None;
    }
    let p = true_p1_given_0(&first.config)?;
    let pi1 = first.pi1?;
    let means: Vec<f64> = os.iter().filter_map(mean_estimate).collect();
    if means.is_empty() {
        return None;
    }
    let (target, name) = match expect {
        Expect::Global => (p, "p (the chain's P(1 | 0))"),
        Expect::Unigram => (pi1, "π1 (the unigram predictor)"),
    };
    let statement = format!(
        "{}: P̂(x_{{n+1}} = 1 | state 0) at the first {} occurrences of state 0 in one held-out sequence, mean over occurrences, sits at {name} = {target:.3} (p = {p}, π1 = {pi1:.3}); per seed: [{}]",
        g.label,
        first.occurrences.len(),
        means.iter().map(|m| format!("{m:.3}")).collect::<Vec<_>>().join(", ")
    );
    Some(Judgement::new(
        Claim::new(&format!("{id}.{}.est", g.tag), PAPER, kind, statement, &format!("{source} (est panel), §6")),
        Some(target),
        Observation::mean(MeanSe::of(&means)),
        EST,
        id,
        "probability",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kaplan–Meier by hand: 4 runs of 100 iterations; one never entered (escapes at 0), one left
    /// at 40, one at 70, one never left (censored at 100): S = 3/4 after 0, 2/4 after 40, 1/4
    /// after 70, still 1/4 at the end.
    #[test]
    fn escape_curve_is_kaplan_meier() {
        let run = |entered: Option<usize>, left: Option<usize>| (Plateau { entered, left }, 100);
        let runs = [run(None, None), run(Some(10), Some(40)), run(Some(5), Some(70)), run(Some(5), None)];
        let c = escape_curve_of(&runs);
        assert_eq!(
            c,
            vec![
                (0.0, 1.0),
                (0.0, 1.0),
                (0.0, 0.75),
                (40.0, 0.75),
                (40.0, 0.5),
                (70.0, 0.5),
                (70.0, 0.25),
                (100.0, 0.25)
            ]
        );
    }
    use crate::markov::experiments::train::curves::{IDS, config};
    use crate::{Lab, Mode};

    /// Every group the experiments build, at either size, has its claim.
    #[test]
    fn every_group_has_an_expectation() {
        for mode in [Mode::Fast, Mode::Quick, Mode::Full] {
            let lab = Lab { cache: attnlab_core::Cache::new(std::env::temp_dir().join("attnlab-unused"), false), mode };
            for id in IDS {
                let cfg = config(&lab, id).expect("config");
                for g in cfg.panels.iter().flat_map(|p| &p.groups) {
                    assert!(expectation(id, &g.tag).is_some(), "{id}.{} has no expectation", g.tag);
                }
            }
        }
    }
}
