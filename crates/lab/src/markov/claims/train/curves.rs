//! Claims of the group-curve experiments `markov.train.{theory,tying,depth,memory,states}` (spec §5
//! F3–F7, F9, F10, F12, F15, F16; §4b): each group of runs ends at H* or stuck at U (mean final
//! held-out loss over seeds, spec §6 band ±0.01), and for binary data its P̂(1 | state 0) at the
//! first occurrences of state 0 sits at p or at π1 accordingly (the `.est` claims, band ±0.02).
//! What each group is claimed to reach ([`expectation`]) is stated here, keyed by the group's tag.
//!
//! Claim ids (the expected end and the source in brackets; multi-state data has no `.est` claim):
//! - `markov.train.theory.theory.p0.7-q0.6.tied`, `markov.train.theory.theory.p0.7-q0.6.tied.est` (U, T2)
//! - `markov.train.theory.theory.p0.7-q0.6.untied`, `markov.train.theory.theory.p0.7-q0.6.untied.est` (H*, T3)
//! - `markov.train.theory.theory.p0.15-q0.35.tied`, `markov.train.theory.theory.p0.15-q0.35.tied.est` (H*, T3 (p+q < 1))
//! - `markov.train.theory.mlp.p0.5-q0.8.tied`, `markov.train.theory.mlp.p0.5-q0.8.tied.est` (U, F15)
//! - `markov.train.theory.mlp.p0.5-q0.8.untied`, `markov.train.theory.mlp.p0.5-q0.8.untied.est` (H*, F15)
//! - `markov.train.tying.p0.2-q0.3.tied`, `markov.train.tying.p0.2-q0.3.tied.est` (H*, F4)
//! - `markov.train.tying.p0.2-q0.3.untied`, `markov.train.tying.p0.2-q0.3.untied.est` (H*, F4)
//! - `markov.train.tying.p0.5-q0.8.tied`, `markov.train.tying.p0.5-q0.8.tied.est` (U, F6/F7, T2)
//! - `markov.train.tying.p0.5-q0.8.untied`, `markov.train.tying.p0.5-q0.8.untied.est` (H*, F6, T3)
//! - `markov.train.depth.L1`, `markov.train.depth.L1.est` (U, F3)
//! - `markov.train.depth.L2`, `markov.train.depth.L2.est` (H*, F3)
//! - `markov.train.depth.L4`, `markov.train.depth.L4.est` (H*, F3)
//! - `markov.train.memory.m2`, `markov.train.memory.m2.est` (H*, F9 \[inferred\])
//! - `markov.train.memory.m40`, `markov.train.memory.m40.est` (U, F9 \[inferred\])
//! - `markov.train.memory.m100`, `markov.train.memory.m100.est` (U, F9 \[inferred\])
//! - `markov.train.memory.full`, `markov.train.memory.full.est` (U, §4, F10 \[recalled\])
//! - `markov.train.states.V5.p0.1.tied` (H*, F16)
//! - `markov.train.states.V5.p0.1.untied` (H*, F16)
//! - `markov.train.states.V5.p0.3.tied` (H*, F16)
//! - `markov.train.states.V5.p0.3.untied` (H*, F16)
//! - `markov.train.states.V5.p0.6.tied` (H*, F16)
//! - `markov.train.states.V5.p0.6.untied` (H*, F16)
//! - `markov.train.states.V5.p0.9.tied` (U, F16 \[inferred\])
//! - `markov.train.states.V5.p0.9.untied` (H*, F16)

use attnlab_comparator::{Claim, Judgement, Observation};
use attnlab_core::{ConfigError, MeanSe, ResultRecord};
use attnlab_trainer::train::{BAND, PROB_BAND};
use attnlab_trainer::{Ending, PlateauLength, TrainOutcome};

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

/// What group `tag` of experiment `id` is claimed to end at, and where the claim comes from (spec
/// section / figure); None for a group no claim covers.
pub fn expectation(id: &str, tag: &str) -> Option<(Expect, &'static str)> {
    use Expect::{Global, Unigram};
    Some(match (id, tag) {
        ("markov.train.depth", "L1") => (Unigram, "F3 (depth figure)"),
        ("markov.train.depth", "L2" | "L4") => (Global, "F3 (depth figure)"),
        ("markov.train.tying", "p0.2-q0.3.tied" | "p0.2-q0.3.untied") => (Global, "F4"),
        ("markov.train.tying", "p0.5-q0.8.tied") => (Unigram, "F6/F7, T2"),
        ("markov.train.tying", "p0.5-q0.8.untied") => (Global, "F6, T3"),
        ("markov.train.theory", "theory.p0.7-q0.6.tied") => (Unigram, "T2"),
        ("markov.train.theory", "theory.p0.7-q0.6.untied") => (Global, "T3"),
        ("markov.train.theory", "theory.p0.15-q0.35.tied") => (Global, "T3 (p+q < 1)"),
        ("markov.train.theory", "mlp.p0.5-q0.8.tied") => (Unigram, "F15"),
        ("markov.train.theory", "mlp.p0.5-q0.8.untied") => (Global, "F15"),
        ("markov.train.memory", "m2") => (Global, "F9 [inferred]"),
        ("markov.train.memory", "m40" | "m100") => (Unigram, "F9 [inferred]"),
        ("markov.train.memory", "full") => (Unigram, "§4, F10 [recalled]"),
        // p > (V − 1)/V = 0.8 is the multi-state analogue of p+q > 1: the spec infers the tied
        // model sticks near U there; everywhere else both reach H*.
        ("markov.train.states", "V5.p0.9.tied") => (Unigram, "F16 [inferred]"),
        (
            "markov.train.states",
            "V5.p0.1.tied" | "V5.p0.1.untied" | "V5.p0.3.tied" | "V5.p0.3.untied" | "V5.p0.6.tied" | "V5.p0.6.untied"
            | "V5.p0.9.untied",
        ) => (Global, "F16"),
        _ => return None,
    })
}

/// The judgements of experiment `rec.id`: per group, the loss claim and (binary or lagged data)
/// the `.est` claim. A group without an [`expectation`] is a config error (naming its tag).
pub fn judge(rec: &ResultRecord<Config, CurvesData>) -> Result<Vec<Judgement>, LabError> {
    let id = rec.id.as_str();
    let mut js = Vec::new();
    for (p, outs) in rec.config.panels.iter().zip(&rec.result.outcomes) {
        for (g, os) in p.groups.iter().zip(outs) {
            let (expect, source) = expectation(id, &g.tag)
                .ok_or_else(|| ConfigError::new("tag", format!("{id}.{}", g.tag), "names a group with a claim in claims::train::curves"))?;
            js.extend(judge_group(id, g, os, expect, source));
            js.extend(judge_estimates(id, g, os, expect, source));
        }
    }
    Ok(js)
}

/// The spec §6 endings and plateau lengths of a group, in words.
fn describe(os: &[TrainOutcome]) -> String {
    let count = |v: Ending| os.iter().filter(|o| o.ending == v).count();
    let plateaus: Vec<String> = os
        .iter()
        .map(|o| match o.plateau.length() {
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

/// The loss claim of a group: the mean final held-out loss sits at H* or U (spec §6 band).
fn judge_group(id: &str, g: &Group, os: &[TrainOutcome], expect: Expect, source: &str) -> Option<Judgement> {
    let first = os.first()?;
    let (target, name) = match expect {
        Expect::Global => (first.entropy_rate, "H*"),
        Expect::Unigram => (first.unigram_loss, "U"),
    };
    let finals: Vec<f64> = os.iter().filter_map(|o| o.final_loss).collect();
    let c = &first.config;
    let statement = format!(
        "{} ({}, d {}, L {}, N {}, {} iterations, {} seeds) ends at {name} = {target:.4} (H* = {:.4}, U = {:.4}); {}",
        g.label,
        c.arch.name(),
        c.d,
        c.layers,
        c.seq_len,
        c.iters,
        os.len(),
        first.entropy_rate,
        first.unigram_loss,
        describe(os)
    );
    let obs = if finals.is_empty() { Observation::exact(f64::NAN) } else { Observation::mean(MeanSe::of(&finals)) };
    Some(Judgement::new(Claim::new(&format!("{id}.{}", g.tag), PAPER, statement, source), target, obs, BAND, id, "nats"))
}

/// The "est" claim of a group (F5, F7, F12): the model's P̂(1 | state 0) at the first occurrences
/// of state 0 in a held-out sequence sits at p when the loss claim says H*, at π1 when it says U.
fn judge_estimates(id: &str, g: &Group, os: &[TrainOutcome], expect: Expect, source: &str) -> Option<Judgement> {
    let first = os.first()?;
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
        Claim::new(&format!("{id}.{}.est", g.tag), PAPER, statement, &format!("{source} (est panel), §6")),
        target,
        Observation::mean(MeanSe::of(&means)),
        PROB_BAND,
        id,
        "probability",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markov::experiments::train::curves::{IDS, config};
    use crate::{Lab, Mode};

    /// Every group the experiments build, at either size, has its claim.
    #[test]
    fn every_group_has_an_expectation() {
        for mode in [Mode::Fast, Mode::Full] {
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
