//! Claims about trained transformers (spec §3 T1–T3, §4, §5, judged with the §6 bands): the group
//! curves (`curves`), the phase diagrams (`phase`), the memory sweep (`sweep`) and the attention
//! probes (`attention`); how one run ended and its plateau at U (`ending`), from its stored curve.

pub mod attention;
pub mod curves;
pub mod ending;
pub mod fidelity;
pub mod phase;
pub mod sweep;
