//! Claims of the Fig 4 stand-in (`icar.token-encoding`, spec icar §4): generic windows of unit-norm
//! embeddings fit an AR(1) map exactly, so a window has non-zero rollout MSE iff it repeats a token
//! whose successors differ; shuffling the tokens gives more such windows, as in the paper's Fig 4.
//! All three are controls: `.explained` is an identity of the AR(1) fit (a window with no repeated
//! token is fit exactly by construction), and the synthetic generator makes the shuffled stream
//! repeat tokens more often, so `shuffled-more` holds by construction of the stand-in; they check
//! the pipeline, not the paper's claim about real text:
//! - `icar.token-encoding.original.explained`, `icar.token-encoding.shuffled.explained`,
//!   `icar.token-encoding.shuffled-more`.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};
use attnlab_core::ResultRecord;

use crate::icar::experiments::PAPER;
use crate::icar::experiments::tokens::{Config, Data, ID, Stream};

/// Rollout MSEs at or below this count as an exact fit.
pub const EXACT: f64 = 1e-12;

/// Counts must match exactly.
pub const COUNT: Rule = Rule::abs(0.0, "a count of windows: equal or not");

/// Windows of `s` with rollout MSE above [`EXACT`].
pub fn nonzero(s: &Stream) -> usize {
    s.mse.iter().filter(|m| **m > EXACT).count()
}

/// The judgements: one per stream, then shuffled-more.
pub fn judge(rec: &ResultRecord<Config, Data>) -> Vec<Judgement> {
    let d = &rec.result;
    let mut js = Vec::new();
    for (name, s) in [("original", &d.original), ("shuffled", &d.shuffled)] {
        js.push(Judgement::new(
            Claim::new(
                &format!("{ID}.{name}.explained"),
                PAPER,
                Kind::Control,
                format!("{name} stream (synthetic stand-in): windows with rollout MSE > 1e-12 are exactly those repeating a token with different successors ({} of {} windows)", s.inconsistent, s.mse.len()),
                "§4 Fig 4 (derived)",
            ),
            Some(s.inconsistent as f64),
            Observation::exact(nonzero(s) as f64),
            COUNT,
            ID,
            "windows",
        ));
    }
    js.push(Judgement::new(
        Claim::new(
            &format!("{ID}.shuffled-more"),
            PAPER,
            Kind::Control,
            format!("holds by construction of the synthetic stand-in's generator (not evidence for Fig 4): as in the paper's Fig 4, shuffling the tokens globally gives more windows with non-zero MSE ({} vs {}; 1 = yes)", nonzero(&d.shuffled), nonzero(&d.original)),
            "§4 Fig 4",
        ),
        Some(1.0),
        Observation::exact(f64::from(u8::from(nonzero(&d.shuffled) > nonzero(&d.original)))),
        COUNT,
        ID,
        "",
    ));
    js
}
