//! markov (Makkuva et al., spec `markov.md`): experiments (`experiments`) and claims (`claims`).

pub mod claims;
pub mod experiments;
