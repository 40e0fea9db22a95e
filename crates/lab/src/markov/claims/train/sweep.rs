//! Claims of `markov.train.memory-sweep` (spec §4, §5 F11 \[inferred\]): on the order-2 lagged chain
//! the final loss increases with the memory m. Two claims per depth, one finding:
//! - `markov.train.memory-sweep.L<l>.rises`: the loss at full attention exceeds the loss at the
//!   smallest m by more than [`SLACK`] — per seed, then the mean over seeds with its t interval
//!   ([`RISES`]); a flat curve fails it. A depth with one run (L 4, L 8, as the paper draws them) is
//!   reported without a verdict.
//! - `markov.train.memory-sweep.L<l>.monotone` (derived from `.rises`): no pair m < m' has the
//!   seed-mean loss fall by more than [`SLACK`] ([`ORDERED`], an exact fraction of pairs).
//!
//! Ids: `markov.train.memory-sweep.L1.rises`, `markov.train.memory-sweep.L1.monotone` (every size),
//! `markov.train.memory-sweep.L4.rises`, `markov.train.memory-sweep.L4.monotone`,
//! `markov.train.memory-sweep.L8.rises`, `markov.train.memory-sweep.L8.monotone` (paper scale).

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};
use attnlab_core::{MeanSe, ResultRecord};

use crate::markov::experiments::PAPER;
use crate::markov::experiments::train::sweep::{Config, ID, SweepData, final_loss};

/// Slack (nats) allowed when checking that the loss does not fall as m grows (evaluation noise).
pub const SLACK: f64 = 0.01;
/// The fraction of ordered pairs: at least 0.9.
pub const ORDERED: Rule = Rule::within(
    0.9,
    1.0,
    "F11 draws the final loss rising with m; 1 pair in 10 may tie within the spec §6 band. Pairs share runs: an exact count, with no interval",
);
/// The rise from the smallest m to full attention: more than the spec §6 band.
pub const RISES: Rule = Rule::within(
    SLACK,
    f64::INFINITY,
    "'the loss increases with m' needs a rise larger than the spec §6 band (0.01 nats) from the smallest m to full attention: a flat curve fails",
);

/// The judgements of the sweep, two per depth.
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
        let setting = format!(
            "order-2 lagged chain (p = 0.2, q = 0.3), GPT-style L = {layers}, d {}, N {n}, {} iterations, {seeds} seed(s)",
            cfg.base.d, cfg.base.iters
        );
        // Per seed: the loss at full attention (the last memory) minus at the smallest m (the first).
        let rises: Vec<f64> = match (per_m.first(), per_m.last()) {
            (Some(small), Some(full)) if per_m.len() > 1 => small
                .iter()
                .zip(full)
                .filter_map(|(a, b)| Some(b.final_loss? - a.final_loss?))
                .filter(|x| x.is_finite())
                .collect(),
            _ => Vec::new(),
        };
        let rise_id = format!("{ID}.L{layers}.rises");
        let rise_claim = Claim::new(
            &rise_id,
            PAPER,
            Kind::Reproduction,
            format!(
                "{setting}: the final loss at full attention exceeds the loss at the smallest m by more than {SLACK} nats (per seed: [{}]); final losses (seed means): {}",
                rises.iter().map(|r| format!("{r:.4}")).collect::<Vec<_>>().join(", "),
                listing.join(", ")
            ),
            "§4, §5 F11 [inferred]",
        );
        let rise_obs = Observation::mean(MeanSe::of(&rises));
        js.push(if rises.len() < 2 {
            Judgement::not_judged(rise_claim, None, rise_obs, RISES, ID, "nats")
        } else {
            Judgement::new(rise_claim, None, rise_obs, RISES, ID, "nats")
        });
        let claim = Claim::new(
            &format!("{ID}.L{layers}.monotone"),
            PAPER,
            Kind::Reproduction,
            format!(
                "{setting}: the final loss does not fall as the memory m grows — every pair m < m' has loss(m) ≤ loss(m') + {SLACK} ({ok}/{pairs} pairs, seed-mean losses); final losses: {}",
                listing.join(", ")
            ),
            "§4, §5 F11 [inferred]",
        );
        // The pairs share runs, so they are not independent trials: the fraction is reported
        // exactly, without a binomial interval.
        let obs = Observation::exact(if pairs == 0 { f64::NAN } else { ok as f64 / pairs as f64 });
        let j = if seeds < 2 {
            Judgement::not_judged(claim, Some(1.0), obs, ORDERED, ID, "fraction of pairs")
        } else {
            Judgement::new(claim, Some(1.0), obs, ORDERED, ID, "fraction of pairs")
        };
        js.push(j.derived(&rise_id));
    }
    js
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat curve (every m at the same loss) fails `.rises`: its rise is 0 < 0.01.
    #[test]
    fn a_flat_curve_fails() {
        let flat = Observation::mean(MeanSe::of(&[0.0, 0.0]));
        let pass = RISES.tolerance.pass_interval(None);
        assert_eq!(attnlab_comparator::judge_interval(flat.interval, pass), attnlab_comparator::Verdict::Disagrees);
        // Two seeds (t with 1 df, ×12.7): a clear rise agrees only when the seeds are close.
        let rising = Observation::mean(MeanSe::of(&[0.060, 0.062]));
        assert_eq!(attnlab_comparator::judge_interval(rising.interval, pass), attnlab_comparator::Verdict::Agrees);
    }
}
