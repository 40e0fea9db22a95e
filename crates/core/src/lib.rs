//! attnlab core: the pieces every paper shares — checked configs, seeded RNG, result records, cache.
//!
//! Data flows one way (see `shared/design.md`): a *checked* config is built once at the boundary
//! (CLI, xtask, tests) by a constructor that rejects bad input with an error naming the field; the
//! theory and experiment code then assume valid parameters.

pub mod cache;
pub mod config;
pub mod error;
pub mod io;
pub mod optim;
pub mod record;
pub mod rng;
pub mod stats;

pub use cache::{Cache, CacheKey, CacheStatus, Entry, Miss};
pub use config::{Check, Range1};
pub use error::ConfigError;
pub use record::{Platform, Rekeyed, ResultRecord};
pub use rng::{Seed, seeded_rng};
pub use stats::MeanSe;

/// Version of the attnlab code, recorded in every result file and mixed into every cache key
/// (with the hash of the code an experiment runs: `attnlab_lab::code_version`).
pub const CODE_VERSION: &str = env!("CARGO_PKG_VERSION");
