//! Closed forms of the chains (spec markov §1, §3, §6): π, H*, U, logits, slope, accuracies.

use crate::{BinaryChain, LaggedChain, MultiStateChain};
use serde::Serialize;

use crate::num::binary_entropy;

/// Every closed-form quantity of a binary first-order chain (p, q), in nats.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChainTheory {
    /// P(0→1).
    pub p: f64,
    /// P(1→0).
    pub q: f64,
    /// π0 = q/(p+q).
    pub pi0: f64,
    /// π1 = p/(p+q).
    pub pi1: f64,
    /// Switching factor p+q (1−p−q is the non-trivial eigenvalue of the kernel).
    pub switching: f64,
    /// H* = π0·h(p) + π1·h(q): the entropy rate, the loss of the bigram predictor.
    pub entropy_rate: f64,
    /// U = h(π1): the unigram loss, the loss of the best constant predictor.
    pub unigram_loss: f64,
    /// U − H* ≥ 0, zero iff p+q = 1.
    pub gap: f64,
    /// ℓ0 = ln(p/(1−p)): bigram logit after a 0.
    pub logit0: f64,
    /// ℓ1 = ln((1−q)/q): bigram logit after a 1.
    pub logit1: f64,
    /// s* = ℓ1 − ℓ0 = ln[(1−p)(1−q)/(pq)]; its sign is the sign of 1−p−q.
    pub slope: f64,
    /// The unigram predictor's constant logit ln(p/q) = logit(π1).
    pub unigram_logit: f64,
    /// Accuracy of the Bayes (bigram) predictor: π0·max(p,1−p) + π1·max(q,1−q).
    pub bayes_accuracy: f64,
    /// Accuracy of the unigram predictor: max(π0, π1).
    pub unigram_accuracy: f64,
}

impl ChainTheory {
    /// All closed forms of spec §3 for a checked chain.
    pub fn new(chain: &BinaryChain) -> Self {
        let (p, q) = (chain.p(), chain.q());
        let s = p + q;
        let (pi0, pi1) = (q / s, p / s);
        let entropy_rate = pi0 * binary_entropy(p) + pi1 * binary_entropy(q);
        let unigram_loss = binary_entropy(pi1);
        let logit0 = (p / (1.0 - p)).ln();
        let logit1 = ((1.0 - q) / q).ln();
        Self {
            p,
            q,
            pi0,
            pi1,
            switching: s,
            entropy_rate,
            unigram_loss,
            // U − H* as one expression, so that it is exactly ≥ 0 up to rounding of each term.
            gap: (unigram_loss - entropy_rate).max(0.0),
            logit0,
            logit1,
            slope: ((1.0 - p) * (1.0 - q) / (p * q)).ln(),
            unigram_logit: (p / q).ln(),
            bayes_accuracy: pi0 * p.max(1.0 - p) + pi1 * q.max(1.0 - q),
            unigram_accuracy: pi0.max(pi1),
        }
    }
}

/// Closed forms of the V-state chain of spec §1 (stay 1−p, each other state p/(V−1)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MultiStateTheory {
    /// Leave probability p.
    pub p: f64,
    /// Number of states V.
    pub states: usize,
    /// H* = h(p) + p·ln(V−1) (the kernel is doubly stochastic, so π is uniform).
    pub entropy_rate: f64,
    /// U = ln V.
    pub unigram_loss: f64,
    /// True when p > (V−1)/V: "switching" beats staying, the multi-state analogue of p+q > 1.
    pub switching_regime: bool,
}

impl MultiStateTheory {
    /// Closed forms for a checked multi-state chain.
    pub fn new(chain: &MultiStateChain) -> Self {
        let (p, v) = (chain.p(), chain.states());
        let vf = v as f64;
        Self {
            p,
            states: v,
            entropy_rate: binary_entropy(p) + p * (vf - 1.0).ln(),
            unigram_loss: vf.ln(),
            switching_regime: p > (vf - 1.0) / vf,
        }
    }
}

/// Closed forms of the lagged order-k switching chain (spec §1, §4): k interleaved independent
/// copies of the first-order chain, so the rate and the unigram loss are the first-order ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LaggedTheory {
    /// The first-order quantities of the underlying kernel.
    pub base: ChainTheory,
    /// The lag k.
    pub order: usize,
    /// Entropy rate of the lagged chain = H* of the kernel.
    pub entropy_rate: f64,
    /// Unigram loss = U of the kernel.
    pub unigram_loss: f64,
}

impl LaggedTheory {
    /// Closed forms for a checked lagged chain.
    pub fn new(chain: &LaggedChain) -> Self {
        let base = ChainTheory::new(&chain.chain());
        Self { base, order: chain.order(), entropy_rate: base.entropy_rate, unigram_loss: base.unigram_loss }
    }

    /// The best loss of a predictor that sees only the last m+1 tokens (memory mask m, spec §2b):
    /// x_{n+1} depends on x_{n−k+1} only, which is visible iff m ≥ k−1; the other visible tokens
    /// belong to independent interleaved chains, so without it the best is the unigram loss.
    /// (Asymptotic in n; the first k positions are ignored.)
    pub fn windowed_loss(&self, memory: usize) -> f64 {
        if memory + 1 >= self.order { self.entropy_rate } else { self.unigram_loss }
    }

    /// The true P(x_{n+1} = 1 | x_{n−k+1} = s): p for s = 0, 1−q for s = 1.
    pub fn conditional(&self, lagged_state: u8) -> f64 {
        if lagged_state == 0 { self.base.p } else { 1.0 - self.base.q }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn th(p: f64, q: f64) -> ChainTheory {
        ChainTheory::new(&BinaryChain::new(p, q).unwrap())
    }

    /// The rows of spec §6, to the printed precision (0.6931 there is ln 2 rounded, as printed).
    #[test]
    #[allow(clippy::approx_constant)]
    fn spec_section_6_table() {
        let rows = [
            // p, q, π1, H* nats, H* bits, U nats, U bits, U−H*, s*, bayes acc, unigram acc
            (0.5, 0.8, 0.3846, 0.6190, 0.8930, 0.6663, 0.9612, 0.0473, -1.386, 0.6154, 0.6154),
            (0.2, 0.3, 0.4000, 0.5446, 0.7857, 0.6730, 0.9710, 0.1284, 2.234, 0.760, 0.600),
            (0.9, 0.9, 0.5, 0.3251, 0.4690, 0.6931, 1.0000, 0.3681, -4.394, 0.900, 0.500),
            (0.1, 0.1, 0.5, 0.3251, 0.4690, 0.6931, 1.0000, 0.3681, 4.394, 0.900, 0.500),
        ];
        let close = |a: f64, b: f64, places: i32| (a - b).abs() <= 0.5 * 10f64.powi(-places) + 1e-12;
        for (p, q, pi1, h, hb, u, ub, gap, s, acc, uacc) in rows {
            let t = th(p, q);
            let ln2 = std::f64::consts::LN_2;
            assert!(close(t.pi1, pi1, 4), "π1 {p},{q}: {}", t.pi1);
            assert!(close(t.entropy_rate, h, 4), "H* {p},{q}: {}", t.entropy_rate);
            assert!(close(t.entropy_rate / ln2, hb, 4), "H* bits {p},{q}");
            assert!(close(t.unigram_loss, u, 4), "U {p},{q}: {}", t.unigram_loss);
            assert!(close(t.unigram_loss / ln2, ub, 4), "U bits {p},{q}");
            assert!(close(t.gap, gap, 4), "gap {p},{q}: {}", t.gap);
            assert!(close(t.slope, s, 3), "s* {p},{q}: {}", t.slope);
            assert!(close(t.bayes_accuracy, acc, 3), "acc {p},{q}: {}", t.bayes_accuracy);
            assert!(close(t.unigram_accuracy, uacc, 3), "uacc {p},{q}");
        }
        assert!((th(0.2, 0.3).unigram_logit - (-0.4055)).abs() < 5e-5);
        assert!((th(0.5, 0.8).unigram_logit - (-0.4700)).abs() < 5e-5);
    }

    #[test]
    fn spec_multi_state_values() {
        for (p, h) in [(0.1, 0.4637), (0.3, 1.0268), (0.6, 1.5048), (0.9, 1.5727)] {
            let t = MultiStateTheory::new(&MultiStateChain::new(p, 5).unwrap());
            assert!((t.entropy_rate - h).abs() < 5e-5, "V=5 p={p}: {}", t.entropy_rate);
            assert!((t.unigram_loss - 1.6094).abs() < 5e-5);
        }
        // V = 2 is the symmetric binary chain p = q.
        let two = MultiStateTheory::new(&MultiStateChain::new(0.3, 2).unwrap());
        assert!((two.entropy_rate - th(0.3, 0.3).entropy_rate).abs() < 1e-15);
    }

    #[test]
    fn spec_section_4_reference_lines() {
        let l = LaggedTheory::new(&LaggedChain::stationary(BinaryChain::new(0.2, 0.3).unwrap(), 2).unwrap());
        assert!((l.entropy_rate - 0.545).abs() < 5e-4);
        assert!((l.unigram_loss - 0.673).abs() < 5e-4);
        assert_eq!(l.windowed_loss(0), l.unigram_loss);
        assert_eq!(l.windowed_loss(1), l.entropy_rate);
        assert_eq!(l.conditional(0), 0.2);
    }
}
