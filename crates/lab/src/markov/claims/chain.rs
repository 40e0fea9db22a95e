//! Claims of `markov.chain.entropy` (spec §3, §6):
//! - `markov.chain.H-le-U`: H* ≤ U over the (p, q) square, with equality on p+q = 1;
//! - `markov.chain.entropy-rate.p0.5-q0.8`, `markov.chain.entropy-rate.p0.2-q0.3`,
//!   `markov.chain.entropy-rate.p0.9-q0.9`, `markov.chain.entropy-rate.p0.1-q0.1`: the sampled
//!   cross-entropy of the bigram predictor is H*;
//! - `markov.chain.unigram-loss.p0.5-q0.8`, `markov.chain.unigram-loss.p0.2-q0.3`: that of the
//!   unigram predictor is U (left out where π1 = 1/2: the check cannot fail there).

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};
use attnlab_core::ResultRecord;
use attnlab_markov::chain::ChainTheory;

use crate::markov::claims::pq_tag;
use crate::markov::experiments::PAPER;
use crate::markov::experiments::chain::{Config, Data, ID};

/// The judgements of the chain claims.
pub fn judge(rec: &ResultRecord<Config, Data>) -> Vec<Judgement> {
    let (cfg, d) = (&rec.config, &rec.result);
    let mut js = vec![Judgement::new(
        Claim::new(
            "markov.chain.H-le-U",
            PAPER,
            Kind::Control,
            "identity (conditioning cannot raise entropy): H* ≤ U on the whole (p, q) grid, with equality on p+q = 1 (max of H* − U over a 99×99 grid that contains the line)",
            "§3",
        ),
        Some(0.0),
        Observation::exact(d.max_h_minus_u),
        Rule::abs(1e-12, "closed forms evaluated in f64: rounding only"),
        ID,
        "nats",
    )];
    for pt in &d.table {
        let t = ChainTheory::new(&pt.chain);
        let tag = pq_tag(&pt.chain);
        let checks = [
            ("entropy-rate", "bigram predictor", "H*", t.entropy_rate, pt.bigram),
            ("unigram-loss", "unigram predictor (constant π1)", "U", t.unigram_loss, pt.unigram),
        ];
        for (id, predictor, symbol, predicted, observed) in checks {
            // With π1 = 1/2 the unigram predictor scores ln 2 on every sequence whatever the data:
            // a check that cannot fail says nothing, so it is left out.
            if id == "unigram-loss" && t.pi1 == 0.5 {
                continue;
            }
            js.push(Judgement::new(
                Claim::new(
                    &format!("markov.chain.{id}.{tag}"),
                    PAPER,
                    Kind::Control,
                    format!(
                        "sampler control: cross-entropy of the {predictor} on {} sampled stationary sequences of {} transitions = {symbol}",
                        cfg.sequences, cfg.seq_len
                    ),
                    "§3, §6",
                ),
                Some(predicted),
                Observation::mean(observed),
                Rule::abs(0.01, "spec §6: the ±0.01-nat band every Markov loss claim uses"),
                ID,
                "nats",
            ));
        }
    }
    js
}
