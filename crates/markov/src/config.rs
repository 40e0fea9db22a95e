//! Checked configs of the Markov paper (spec `markov.md` §1, §2c, §3): the chains, and the settings
//! of gradient flow and SGD on the canonical model. Built only through constructors that validate
//! every field once; they deserialise through the same constructors (`serde(try_from)`).

use attnlab_core::config::{Check, rules};
use attnlab_core::{ConfigError, checked_deserialize};
use serde::{Deserialize, Serialize};

/// A binary first-order Markov chain (spec markov §1): p = P(0→1), q = P(1→0), both in (0, 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BinaryChainRaw")]
pub struct BinaryChain {
    p: f64,
    q: f64,
}

checked_deserialize!(BinaryChain via BinaryChainRaw { p: f64, q: f64 });

impl BinaryChain {
    /// Checks p, q ∈ (0, 1) (NaN and ±∞ rejected) and builds the chain.
    pub fn new(p: f64, q: f64) -> Result<Self, ConfigError> {
        Ok(Self { p: rules::prob_open("p", p)?, q: rules::prob_open("q", q)? })
    }
    /// p = P(x_{n+1} = 1 | x_n = 0).
    pub fn p(&self) -> f64 {
        self.p
    }
    /// q = P(x_{n+1} = 0 | x_n = 1).
    pub fn q(&self) -> f64 {
        self.q
    }
}

/// The multi-state chain of spec markov §1: V states, stay with probability 1−p, move to each other
/// state with probability p/(V−1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MultiStateRaw")]
pub struct MultiStateChain {
    p: f64,
    states: usize,
}

checked_deserialize!(MultiStateChain via MultiStateRaw { p: f64, states: usize });

impl MultiStateChain {
    /// Checks p ∈ (0, 1) and states ≥ 2.
    pub fn new(p: f64, states: usize) -> Result<Self, ConfigError> {
        Ok(Self { p: rules::prob_open("p", p)?, states: rules::at_least("states", states, 2)? })
    }
    /// Total probability of leaving the current state.
    pub fn p(&self) -> f64 {
        self.p
    }
    /// Number of states V.
    pub fn states(&self) -> usize {
        self.states
    }
}

/// The lagged switching chain of order k (spec markov §1, §4): x_{n+1} ~ P(· | x_{n−k+1}) with the
/// 2×2 kernel of `chain`; the first k bits are i.i.d. Bernoulli(α).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LaggedRaw")]
pub struct LaggedChain {
    chain: BinaryChain,
    order: usize,
    alpha: f64,
}

checked_deserialize!(LaggedChain via LaggedRaw { chain: BinaryChain, order: usize, alpha: f64 });

impl LaggedChain {
    /// Checks order ≥ 1 and α ∈ [0, 1].
    pub fn new(chain: BinaryChain, order: usize, alpha: f64) -> Result<Self, ConfigError> {
        Ok(Self { chain, order: rules::at_least("order", order, 1)?, alpha: rules::prob_closed("alpha", alpha)? })
    }
    /// The stationary version: the first k bits drawn from π, so every position has the same law.
    pub fn stationary(chain: BinaryChain, order: usize) -> Result<Self, ConfigError> {
        let pi1 = chain.p() / (chain.p() + chain.q());
        Self::new(chain, order, pi1)
    }
    /// The underlying 2×2 kernel.
    pub fn chain(&self) -> BinaryChain {
        self.chain
    }
    /// The lag k.
    pub fn order(&self) -> usize {
        self.order
    }
    /// P(first k bits = 1).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

/// Settings of an adaptive ODE integration of gradient flow (Dormand–Prince 5(4)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FlowRaw")]
pub struct FlowConfig {
    t_max: f64,
    rtol: f64,
    atol: f64,
    grad_tol: f64,
}

checked_deserialize!(FlowConfig via FlowRaw { t_max: f64, rtol: f64, atol: f64, grad_tol: f64 });

impl FlowConfig {
    /// Checks every field is finite and > 0. The flow stops at t_max or once ‖∇L‖ < grad_tol.
    pub fn new(t_max: f64, rtol: f64, atol: f64, grad_tol: f64) -> Result<Self, ConfigError> {
        Ok(Self {
            t_max: rules::positive("t_max", t_max)?,
            rtol: rules::positive("rtol", rtol)?,
            atol: rules::positive("atol", atol)?,
            grad_tol: rules::positive("grad_tol", grad_tol)?,
        })
    }
    /// Final time.
    pub fn t_max(&self) -> f64 {
        self.t_max
    }
    /// Relative local error tolerance.
    pub fn rtol(&self) -> f64 {
        self.rtol
    }
    /// Absolute local error tolerance.
    pub fn atol(&self) -> f64 {
        self.atol
    }
    /// Stop once the gradient norm falls below this.
    pub fn grad_tol(&self) -> f64 {
        self.grad_tol
    }
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self { t_max: 1e5, rtol: 1e-10, atol: 1e-12, grad_tol: 1e-9 }
    }
}

/// SGD with (heavy-ball, PyTorch-convention) momentum: v ← μ v + g, θ ← θ − lr·v.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SgdRaw")]
pub struct SgdConfig {
    lr: f64,
    momentum: f64,
    steps: usize,
    init_std: f64,
}

checked_deserialize!(SgdConfig via SgdRaw { lr: f64, momentum: f64, steps: usize, init_std: f64 });

impl SgdConfig {
    /// Checks lr > 0, momentum ∈ [0, 1), steps ≥ 1, init_std ≥ 0 (all finite).
    pub fn new(lr: f64, momentum: f64, steps: usize, init_std: f64) -> Result<Self, ConfigError> {
        let momentum = rules::prob_closed("momentum", momentum)?;
        if momentum >= 1.0 {
            return Err(ConfigError::new("momentum", momentum, "must be < 1"));
        }
        Ok(Self {
            lr: rules::positive("lr", lr)?,
            momentum,
            steps: rules::at_least("steps", steps, 1)?,
            init_std: rules::non_negative("init_std", init_std)?,
        })
    }
    /// Learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }
    /// Momentum μ.
    pub fn momentum(&self) -> f64 {
        self.momentum
    }
    /// Number of steps.
    pub fn steps(&self) -> usize {
        self.steps
    }
    /// Standard deviation of the Gaussian initialisation around 0.
    pub fn init_std(&self) -> f64 {
        self.init_std
    }
}

impl Check for BinaryChain {
    fn check(&self) -> Result<(), ConfigError> {
        Self::new(self.p, self.q).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_chain_names_the_bad_field() {
        assert_eq!(BinaryChain::new(1.3, 0.5).unwrap_err().field, "p");
        assert_eq!(BinaryChain::new(0.3, 0.0).unwrap_err().field, "q");
        assert_eq!(BinaryChain::new(f64::NAN, 0.5).unwrap_err().field, "p");
        let msg = BinaryChain::new(0.2, 1.0).unwrap_err().to_string();
        assert!(msg.contains("`q`") && msg.contains("(0, 1)"), "{msg}");
    }

    #[test]
    fn deserialising_runs_the_same_checks() {
        let ok: BinaryChain = serde_json::from_str(r#"{"p":0.2,"q":0.3}"#).unwrap();
        assert_eq!((ok.p(), ok.q()), (0.2, 0.3));
        let bad = serde_json::from_str::<BinaryChain>(r#"{"p":0.2,"q":3.0}"#).unwrap_err();
        assert!(bad.to_string().contains("`q`"), "{bad}");
    }

    #[test]
    fn sgd_rejects_momentum_one() {
        assert_eq!(SgdConfig::new(0.01, 1.0, 10, 0.1).unwrap_err().field, "momentum");
        assert_eq!(SgdConfig::new(0.0, 0.9, 10, 0.1).unwrap_err().field, "lr");
        assert_eq!(SgdConfig::new(0.01, 0.9, 0, 0.1).unwrap_err().field, "steps");
    }
}
