//! icar claims (Sander et al., spec `icar.md`): a result record → judgements through the
//! comparator. The modules mirror the experiments (`diagonal`, `augmented`, `nonaugmented`,
//! `pe_only`, `tokens`); each lists in its docs every claim id it can produce. The figures and the
//! CLI (`attnlab icar …`) both judge through these functions.

pub mod augmented;
pub mod diagonal;
pub mod nonaugmented;
pub mod pe_only;
pub mod tokens;

use attnlab_comparator::{Judgement, Verdict};

/// One verdict for several judgements: not judged if none is judged, agrees if all agree,
/// disagrees if any disagrees, else inconclusive (the CLI's overall `verdict`).
pub fn overall(js: &[Judgement]) -> Verdict {
    if js.iter().all(|j| j.verdict == Verdict::NotJudged) {
        Verdict::NotJudged
    } else if js.iter().all(|j| j.verdict == Verdict::Agrees) {
        Verdict::Agrees
    } else if js.iter().any(|j| j.verdict == Verdict::Disagrees) {
        Verdict::Disagrees
    } else {
        Verdict::Inconclusive
    }
}
