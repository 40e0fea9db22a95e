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
    /// The code version of the experiment (package version, hash of the code it runs, rustc).
    pub code_version: String,
    /// Wall time of the computation in seconds (of the original run when reused from the cache).
    pub wall_time_s: f64,
    /// Where it was computed: the CPU kernel path and the compiler (absent in older records).
    #[serde(default)]
    pub platform: Platform,
    /// SHA-256 (hex) of the result's JSON, written with the record: an entry whose result does not
    /// match is damaged (absent in older records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// Set when this entry was carried over from an older code version by `cargo xtask rekey`
    /// after a sample of its tasks, rerun under the new code, gave identical records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekeyed: Option<Rekeyed>,
    /// The result itself.
    pub result: R,
}

/// Where a result was computed. The numbers of the trained models depend on the CPU kernel path
/// (AVX-512, AVX2 or portable; they agree to about 1e-12) and on the compiler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// The attention kernel's code path (`avx512`, `avx2`, `portable`), or `unknown`.
    pub kernel_path: String,
    /// `rustc --version` of the build, or `unknown`.
    pub rustc: String,
}

impl Default for Platform {
    fn default() -> Self {
        Self { kernel_path: "unknown".into(), rustc: "unknown".into() }
    }
}

/// How an entry came to be under a code version it was not computed with (`cargo xtask rekey`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rekeyed {
    /// The code version it was computed with.
    pub from_code_version: String,
    /// The commit (and whether its tree was modified) whose build reran the sample.
    pub verified_by: String,
    /// Content hashes (new keys) of the sampled tasks that were rerun and compared bit for bit.
    pub sample: Vec<String>,
}

/// The checksum stored with a result: SHA-256 (hex) of its JSON as serde_json writes it. Reading
/// a record back as JSON values and writing it again gives the same bytes (`float_roundtrip`,
/// `preserve_order`), so it can be checked without the result's type.
pub fn checksum<R: Serialize>(result: &R) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_value(result).and_then(|v| serde_json::to_vec(&v)).unwrap_or_default();
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
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
            platform: Platform::default(),
            checksum: None,
            rekeyed: None,
            result: vec![std::f64::consts::PI, 1e-300, 0.30000000000000004],
        };
        let s = serde_json::to_string(&r).unwrap();
        let back: ResultRecord<f64, Vec<f64>> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, r);
    }
}

#[cfg(test)]
mod checksum_tests {
    use super::*;

    #[test]
    fn a_checksum_reads_back_through_untyped_json() {
        let result = (vec![0.1_f64 + 0.2, 1e-300, 3.0], "x", Some(2_u64));
        let typed = checksum(&result);
        let text = serde_json::to_string(&result).unwrap();
        let untyped: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(checksum(&untyped), typed);
        assert_ne!(checksum(&(vec![0.3_f64, 1e-300, 3.0], "x", Some(2_u64))), typed);
    }
}
