//! Seeded samplers of the chains of spec markov §1 and Monte-Carlo cross-entropies of predictors.

use crate::{BinaryChain, LaggedChain, MultiStateChain};
use attnlab_core::stats::MeanSe;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::chain::ChainTheory;

/// How the first symbol of a binary chain is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// x1 ~ Bernoulli(π1) (the correct "steady" start; every position then has law π).
    #[default]
    Stationary,
    /// x1 ~ Bernoulli(1/2).
    Uniform,
}

/// Draws `batch` sequences of `len` symbols of the binary chain, row-major (batch × len).
pub fn sample_binary(chain: &BinaryChain, batch: usize, len: usize, start: Start, rng: &mut impl Rng) -> Vec<u8> {
    let (p, q) = (chain.p(), chain.q());
    let p1 = match start {
        Start::Stationary => p / (p + q),
        Start::Uniform => 0.5,
    };
    let mut out = vec![0u8; batch * len];
    for row in out.chunks_mut(len.max(1)).take(batch) {
        if len == 0 {
            break;
        }
        let mut x = u8::from(rng.random::<f64>() < p1);
        row[0] = x;
        for slot in row.iter_mut().skip(1) {
            let u: f64 = rng.random();
            x = if x == 0 { u8::from(u < p) } else { u8::from(u >= q) };
            *slot = x;
        }
    }
    out
}

/// Draws `batch` sequences of the V-state chain (uniform, i.e. stationary, first state).
pub fn sample_multistate(chain: &MultiStateChain, batch: usize, len: usize, rng: &mut impl Rng) -> Vec<u32> {
    let v = chain.states() as u32;
    let mut out = vec![0u32; batch * len];
    for row in out.chunks_mut(len.max(1)).take(batch) {
        if len == 0 {
            break;
        }
        let mut x = rng.random_range(0..v);
        row[0] = x;
        for slot in row.iter_mut().skip(1) {
            if rng.random::<f64>() < chain.p() {
                // Move to one of the V−1 other states, uniformly.
                let j = rng.random_range(0..v - 1);
                x = if j >= x { j + 1 } else { j };
            }
            *slot = x;
        }
    }
    out
}

/// Draws `batch` sequences of the lagged order-k chain: the first k bits i.i.d. Bernoulli(α), then
/// x_{n+1} ~ P(· | x_{n−k+1}). (Unlike the reference's first commit, the last target is not forced
/// to 0.)
pub fn sample_lagged(chain: &LaggedChain, batch: usize, len: usize, rng: &mut impl Rng) -> Vec<u8> {
    let (p, q, k) = (chain.chain().p(), chain.chain().q(), chain.order());
    let mut out = vec![0u8; batch * len];
    for row in out.chunks_mut(len.max(1)).take(batch) {
        for n in 0..len {
            row[n] = if n < k {
                u8::from(rng.random::<f64>() < chain.alpha())
            } else {
                let u: f64 = rng.random();
                if row[n - k] == 0 { u8::from(u < p) } else { u8::from(u >= q) }
            };
        }
    }
    out
}

/// Monte-Carlo cross-entropies (nats/token) of the bigram and unigram predictors on `batch`
/// sampled stationary sequences of `len` + 1 symbols; the standard error is over sequences.
pub fn monte_carlo_losses(chain: &BinaryChain, batch: usize, len: usize, rng: &mut impl Rng) -> (MeanSe, MeanSe) {
    let th = ChainTheory::new(chain);
    let data = sample_binary(chain, batch, len + 1, Start::Stationary, rng);
    let next1 = [th.p, 1.0 - th.q];
    let (mut big, mut uni) = (Vec::with_capacity(batch), Vec::with_capacity(batch));
    for row in data.chunks(len + 1) {
        let (mut b, mut u) = (0.0, 0.0);
        for w in row.windows(2) {
            let p1 = next1[w[0] as usize];
            let ce = |prob1: f64| if w[1] == 1 { -prob1.ln() } else { -(1.0 - prob1).ln() };
            b += ce(p1);
            u += ce(th.pi1);
        }
        big.push(b / len as f64);
        uni.push(u / len as f64);
    }
    (MeanSe::of(&big), MeanSe::of(&uni))
}

#[cfg(test)]
mod tests {
    use super::*;
    use attnlab_core::seeded_rng;

    #[test]
    fn binary_frequencies_match_kernel() {
        let chain = BinaryChain::new(0.2, 0.3).unwrap();
        let x = sample_binary(&chain, 64, 2000, Start::Stationary, &mut seeded_rng(1));
        let (mut n0, mut n01, mut n1, mut n10) = (0.0, 0.0, 0.0, 0.0);
        for row in x.chunks(2000) {
            for w in row.windows(2) {
                if w[0] == 0 {
                    n0 += 1.0;
                    n01 += f64::from(w[1]);
                } else {
                    n1 += 1.0;
                    n10 += f64::from(1 - w[1]);
                }
            }
        }
        assert!((n01 / n0 - 0.2).abs() < 0.01);
        assert!((n10 / n1 - 0.3).abs() < 0.01);
        assert!((n1 / (n0 + n1) - 0.4).abs() < 0.02);
        // Same seed, same data.
        assert_eq!(x, sample_binary(&chain, 64, 2000, Start::Stationary, &mut seeded_rng(1)));
    }

    #[test]
    fn multistate_moves_with_probability_p() {
        let chain = MultiStateChain::new(0.3, 5).unwrap();
        let x = sample_multistate(&chain, 16, 5000, &mut seeded_rng(2));
        let moves = x.chunks(5000).flat_map(|r| r.windows(2)).filter(|w| w[0] != w[1]).count();
        let frac = moves as f64 / (16.0 * 4999.0);
        assert!((frac - 0.3).abs() < 0.01, "{frac}");
        assert!(x.iter().all(|&s| s < 5));
    }

    #[test]
    fn lagged_chain_depends_on_lag_k() {
        let chain = LaggedChain::stationary(BinaryChain::new(0.2, 0.3).unwrap(), 3).unwrap();
        let x = sample_lagged(&chain, 32, 3000, &mut seeded_rng(3));
        let (mut n0, mut n01) = (0.0, 0.0);
        for row in x.chunks(3000) {
            for n in 3..3000 {
                if row[n - 3] == 0 {
                    n0 += 1.0;
                    n01 += f64::from(row[n]);
                }
            }
        }
        assert!((n01 / n0 - 0.2).abs() < 0.01);
        // The last target is a real draw, not forced to 0.
        assert!(x.chunks(3000).any(|r| r[2999] == 1));
    }
}
