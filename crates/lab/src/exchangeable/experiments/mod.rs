//! exchangeable experiments: checked config → deterministic run(seed) → cached serde result.
