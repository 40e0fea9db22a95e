//! exchangeable (Zhang et al., attention via exchangeability, spec `exchangeable.md`): the
//! experiments E1–E5 of spec §3 (`experiments`, one module each) and their claims (`claims`, one
//! module each, every claim id written out in its docs).

pub mod claims;
pub mod experiments;
