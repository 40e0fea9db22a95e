//! Result records: what every experiment writes — its config, seed, code version, wall time, result.

use serde::{Deserialize, Serialize};

/// One experiment's result as stored in `figures/results/*.json` and in the cache.
/// Floats round-trip exactly (serde_json `float_roundtrip`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord<C, R> {
    /// Experiment id (a claim or figure id such as `markov.canonical.basin`).
    pub id: String,
    /// The checked config the experiment ran with.
    pub config: C,
    /// The base seed (replicates derive theirs with `rng::child_seed`).
    pub seed: u64,
    /// `code_version(revision)` of the experiment.
    pub code_version: String,
    /// Wall time of the computation in seconds (of the original run when reused from the cache).
    pub wall_time_s: f64,
    /// The result itself.
    pub result: R,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_exactly() {
        let r = ResultRecord {
            id: "x".into(),
            config: 0.1_f64 + 0.2,
            seed: 3,
            code_version: "v".into(),
            wall_time_s: 1.0 / 3.0,
            result: vec![std::f64::consts::PI, 1e-300, 0.30000000000000004],
        };
        let s = serde_json::to_string(&r).unwrap();
        let back: ResultRecord<f64, Vec<f64>> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, r);
    }
}
