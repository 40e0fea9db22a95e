//! Seeded randomness: every random number in attnlab comes from ChaCha8 seeded by a `u64`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A seed as recorded in result files.
pub type Seed = u64;

/// The one way to make an RNG in attnlab: ChaCha8 from a `u64` seed (reproducible on every platform).
pub fn seeded_rng(seed: Seed) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A child seed for replicate `index` of a run seeded with `base` (SplitMix64 mixing, so nearby
/// indices give unrelated streams). Lets rayon run replicates in any order and stay reproducible.
pub fn child_seed(base: Seed, index: u64) -> Seed {
    let mut z = base ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let a: Vec<u64> = (0..4).map(|_| 0).scan(seeded_rng(7), |r, _: u64| Some(r.random())).collect();
        let b: Vec<u64> = (0..4).map(|_| 0).scan(seeded_rng(7), |r, _: u64| Some(r.random())).collect();
        let c: Vec<u64> = (0..4).map(|_| 0).scan(seeded_rng(8), |r, _: u64| Some(r.random())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn child_seeds_differ() {
        let s: std::collections::HashSet<u64> = (0..1000).map(|i| child_seed(42, i)).collect();
        assert_eq!(s.len(), 1000);
    }
}
