//! Sander, Giryes, Suzuki, Blondel, Peyré, "How do Transformers perform In-Context Autoregressive
//! Learning?" (ICML 2024; spec `icar.md`) in f64: the data models (§1), the augmented one-step
//! gradient-descent predictor with η* and loss* (§3a), the trainable theoretical augmented head
//! (§3a "gauge"), the exact closed-form losses of the diagonal multi-head model with their minima
//! and floors (§2c, §3b), the PE-only Gram matrix with early-stopped gradient descent (§2d, §3c),
//! and the reference's trained models with hand-written gradients: the augmented-token transformer
//! ([`augmented`], §2a) and the non-augmented one with positional embeddings ([`nonaugmented`], §2b,
//! its batch pass multiversioned through `attnlab_kernels`), with their timing ([`bench`]).
//!
//! Nothing here depends on a neural-network library; every random number comes from ChaCha8.

pub mod augmented;
pub mod bench;
pub mod data;
pub mod diagonal;
pub mod gd;
pub mod head;
pub mod nonaugmented;
pub mod pe;

pub use attnlab_core::ConfigError;
pub use num_complex::Complex64 as C64;

/// Chunks a batch's loss and gradient are split into for rayon, whatever the thread count: partial
/// sums are added in chunk order, so a result does not depend on how many threads computed it (a
/// per-thread split made the trained models differ in the last bits between 1 and 2 threads).
pub const REDUCTION_CHUNKS: usize = 8;

/// Errors of the ICAR crate: a rejected parameter (naming its field).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IcarError {
    /// A bad config field.
    #[error(transparent)]
    Config(#[from] ConfigError),
}
