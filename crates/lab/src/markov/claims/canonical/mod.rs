//! Claims about the canonical (e, w, b) model (spec §2c/§3): the closed forms of the landscape
//! (`landscape`), the basins of gradient flow (`basin`) and SGD from a small init (`sgd`).

pub mod basin;
pub mod landscape;
pub mod sgd;
