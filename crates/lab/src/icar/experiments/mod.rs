//! icar experiments (Sander et al., spec `icar.md`): checked config → deterministic run(seed) →
//! cached serde result. The modules follow the spec's sections and the figure ids:
//! - `diagonal`: the diagonal multi-head model's exact loss minimised (§2c, §3b; Fig 3 and the loss
//!   floors against H);
//! - `augmented`: the trained augmented-token transformer (§2a, §3a; Fig 5) and the trained
//!   theoretical heads on the (d, T) grid of η*;
//! - `nonaugmented`: the trained non-augmented softmax-PE model (§2b; Fig 7);
//! - `pe_only`: the PE-only model under early-stopped GD (§2d, §3c; Fig 6);
//! - `tokens`: AR(1) fits on windows of synthetic embeddings (the stand-in for Fig 4).

pub mod augmented;
pub mod diagonal;
pub mod nonaugmented;
pub mod pe_only;
pub mod tokens;

/// The paper's name: its cache-key code version (`code_version`) and every claim's paper.
pub const PAPER: &str = "icar";
