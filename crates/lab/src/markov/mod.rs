//! markov: experiments (`experiments`) and claims (`claims`).

pub mod claims;
pub mod experiments;
