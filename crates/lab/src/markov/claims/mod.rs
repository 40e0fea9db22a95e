//! markov claims: a result record → judgements through the comparator. The modules mirror the
//! experiments (`canonical`, `chain`, `train`); each lists in its docs every claim id it can produce.

pub mod canonical;
pub mod chain;
pub mod train;

use attnlab_markov::BinaryChain;

/// Claim-id suffix for a chain: `p0.2-q0.3`.
pub fn pq_tag(c: &BinaryChain) -> String {
    format!("p{}-q{}", c.p(), c.q())
}
