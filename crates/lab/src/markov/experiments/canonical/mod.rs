//! The canonical 3-parameter model (e, w, b) of spec §2c/§3: its loss landscape (`landscape`), the
//! basins of gradient flow (`basin`) and SGD with momentum on the exact loss (`sgd`).

pub mod basin;
pub mod landscape;
pub mod sgd;
