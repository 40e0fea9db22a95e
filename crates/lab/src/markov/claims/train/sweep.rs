//! Claims of `markov.train.memory-sweep` (spec §4, §5 F11 \[inferred\]): on the order-2 lagged chain
//! the final loss does not fall as the memory m grows (every pair m < m' has loss(m) ≤ loss(m') +
//! [`SLACK`]), judged on the fraction of such pairs (1 ± 0.1), one claim per depth:
//! - `markov.train.memory-sweep.L1.monotone` (every size), `markov.train.memory-sweep.L4.monotone`
//!   (quick and full), `markov.train.memory-sweep.L8.monotone` (full).

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};
use attnlab_core::ResultRecord;

use crate::markov::experiments::PAPER;
use crate::markov::experiments::train::sweep::{Config, ID, SweepData, final_loss};

/// Slack (nats) allowed when checking that the loss does not fall as m grows (evaluation noise).
pub const SLACK: f64 = 0.01;
/// The fraction of ordered pairs: at least 0.9.
pub const ORDERED: Rule = Rule::within(
    0.9,
    1.0,
    "F11 draws the final loss rising with m; 1 pair in 10 may tie within the spec §6 band. One run per memory: an exact count, with no interval",
);

/// The judgements of the sweep, one per depth.
pub fn judge(rec: &ResultRecord<Config, SweepData>) -> Vec<Judgement> {
    let (cfg, data) = (&rec.config, &rec.result);
    let n = cfg.base.seq_len;
    let mut js = Vec::new();
    for (&(layers, seeds), per_m) in cfg.depths.iter().zip(&data.outcomes) {
        let losses: Vec<(f64, f64)> =
            cfg.memories.iter().zip(per_m).filter_map(|(&m, os)| final_loss(os).map(|l| (cfg.m_value(m), l))).collect();
        let (mut ok, mut pairs) = (0usize, 0usize);
        for i in 0..losses.len() {
            for j in i + 1..losses.len() {
                pairs += 1;
                if losses[i].1 <= losses[j].1 + SLACK {
                    ok += 1;
                }
            }
        }
        let listing: Vec<String> = losses
            .iter()
            .map(|(m, l)| if *m as usize == n { format!("full: {l:.3}") } else { format!("m {m}: {l:.3}") })
            .collect();
        js.push(Judgement::new(
            Claim::new(
                &format!("{ID}.L{layers}.monotone"),
                PAPER,
                Kind::Reproduction,
                format!(
                    "order-2 lagged chain (p = 0.2, q = 0.3), GPT-style L = {layers}, d {}, N {n}, {} iterations, {seeds} seed(s): the \
                     final loss increases with the memory m — every pair m < m' has loss(m) ≤ loss(m') + {SLACK} ({ok}/{pairs} pairs); \
                     final losses: {}",
                    cfg.base.d,
                    cfg.base.iters,
                    listing.join(", ")
                ),
                "§4, §5 F11 [inferred]",
            ),
            Some(1.0),
            // The pairs share runs, so they are not independent trials: the fraction is reported
            // exactly, without a binomial interval.
            Observation::exact(if pairs == 0 { f64::NAN } else { ok as f64 / pairs as f64 }),
            ORDERED,
            ID,
            "fraction of pairs",
        ));
    }
    js
}
