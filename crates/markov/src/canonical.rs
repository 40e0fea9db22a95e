//! The canonical 3-parameter model (e, w, b) of spec markov §2c and its landscape (spec §3,
//! "Canonical model: closed forms"): logit(x_n) = e²(1 + 2w|w|)·x_n + b − e²/2, BCE loss.

use crate::BinaryChain;
use attnlab_core::{ConfigError, config::rules};
use serde::{Deserialize, Serialize};

use crate::chain::ChainTheory;
use crate::num::{ln_sigmoid, log_add_exp, sigmoid};

/// w at which c(w) = 1 + 2w|w| vanishes: −1/√2 (the transition point of the curvature).
pub const W_CRIT: f64 = -std::f64::consts::FRAC_1_SQRT_2;

/// The separatrix energy E* = E(0, −1/√2) = −(1 + ln 2)/2 ≈ −0.8466.
pub fn separatrix_energy() -> f64 {
    -(1.0 + std::f64::consts::LN_2) / 2.0
}

/// c(w) = 1 + 2w|w|: the FFN's factor on the direct slope e².
pub fn c_of(w: f64) -> f64 {
    1.0 + 2.0 * w * w.abs()
}

/// A point (e, w, b) of the canonical parameter space, each coordinate finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CanonicalPoint {
    /// Embedding scale e.
    pub e: f64,
    /// FFN weight w.
    pub w: f64,
    /// Output bias b.
    pub b: f64,
}

impl CanonicalPoint {
    /// Checks e, w, b are finite.
    pub fn new(e: f64, w: f64, b: f64) -> Result<Self, ConfigError> {
        Ok(Self { e: rules::finite("e", e)?, w: rules::finite("w", w)?, b: rules::finite("b", b)? })
    }
}

/// Where gradient flow from a point is predicted to end (spec §3 "Basins of attraction").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basin {
    /// The global-minimum set c·e² = s* (loss H*).
    Global,
    /// The unigram critical set e = 0 (loss U).
    Unigram,
    /// p+q = 1: the two sets have the same loss (H* = U) and the distinction is void.
    Degenerate,
}

/// Curvature classification of a unigram critical point (0, w, ln(p/q)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Curvature {
    /// ∂²L/∂e² > 0: a (degenerate, flat along w) local minimum.
    LocalMin,
    /// ∂²L/∂e² < 0: a saddle.
    Saddle,
    /// ∂²L/∂e² = 0 (p+q = 1 or w = −1/√2).
    Flat,
}

/// The canonical model on a chain: every closed form of spec §3 "Canonical model".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Canonical {
    /// The chain's closed forms.
    pub chain: ChainTheory,
}

/// Value and gradient of the population loss at a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossGrad {
    /// L(e, w, b) in nats.
    pub loss: f64,
    /// ∂L/∂e.
    pub de: f64,
    /// ∂L/∂w.
    pub dw: f64,
    /// ∂L/∂b.
    pub db: f64,
}

impl Canonical {
    /// The canonical model for a checked chain.
    pub fn new(chain: &BinaryChain) -> Self {
        Self { chain: ChainTheory::new(chain) }
    }

    /// The two logits: f0 = b − e²/2 after a 0, f1 = b + e²(c − ½) after a 1.
    pub fn logits(&self, e: f64, w: f64, b: f64) -> (f64, f64) {
        let e2 = e * e;
        (b - e2 / 2.0, b + e2 * (c_of(w) - 0.5))
    }

    /// Exact population loss (spec §3): L = π0·[−p ln σ(f0) − (1−p) ln σ(−f0)]
    /// + π1·[−(1−q) ln σ(f1) − q ln σ(−f1)].
    pub fn loss(&self, e: f64, w: f64, b: f64) -> f64 {
        self.loss_grad(e, w, b).loss
    }

    /// Loss and its exact gradient in (e, w, b).
    pub fn loss_grad(&self, e: f64, w: f64, b: f64) -> LossGrad {
        let ChainTheory { p, q, pi0, pi1, .. } = self.chain;
        let (f0, f1) = self.logits(e, w, b);
        let loss = pi0 * (-p * ln_sigmoid(f0) - (1.0 - p) * ln_sigmoid(-f0))
            + pi1 * (-(1.0 - q) * ln_sigmoid(f1) - q * ln_sigmoid(-f1));
        // ∂L/∂f0 and ∂L/∂f1.
        let g0 = pi0 * (sigmoid(f0) - p);
        let g1 = pi1 * (sigmoid(f1) - (1.0 - q));
        let c = c_of(w);
        LossGrad { loss, de: -e * g0 + e * (2.0 * c - 1.0) * g1, dw: g1 * e * e * 4.0 * w.abs(), db: g0 + g1 }
    }

    /// The optimal bias b*(e, w) (spec §3): with G = exp(c·e²),
    /// b* = e²/2 + ln([p − q + √((p−q)² + 4pq·G)] / (2q·G)), evaluated in log space (no overflow,
    /// no cancellation) so it is exact to rounding for any finite (e, w).
    pub fn optimal_bias(&self, e: f64, w: f64) -> f64 {
        let (p, q) = (self.chain.p, self.chain.q);
        let ln_g = c_of(w) * e * e;
        let d = p - q;
        // ln √D with D = (p−q)² + 4pq·G.
        let ln_sqrt_d = 0.5 * log_add_exp(2.0 * d.abs().ln(), (4.0 * p * q).ln() + ln_g);
        // z = e^{b − e²/2} is the positive root of qG z² + (q − p) z − p = 0.
        let ln_z = if d >= 0.0 {
            log_add_exp(d.ln(), ln_sqrt_d) - (2.0 * q).ln() - ln_g
        } else {
            (2.0 * p).ln() - log_add_exp(ln_sqrt_d, (-d).ln())
        };
        e * e / 2.0 + ln_z
    }

    /// The loss with the bias at its optimum, L(e, w, b*(e, w)), and its (e, w) gradient (by the
    /// envelope theorem the partial derivatives at b*).
    pub fn reduced(&self, e: f64, w: f64) -> LossGrad {
        self.loss_grad(e, w, self.optimal_bias(e, w))
    }

    /// The unigram critical set (spec §3): e = 0, b = ln(p/q), any w. Returns the point at `w`.
    pub fn unigram_point(&self, w: f64) -> CanonicalPoint {
        CanonicalPoint { e: 0.0, w, b: self.chain.unigram_logit }
    }

    /// The global-minimum set (spec §3): c(w)·e² = s*, b = ℓ0 + e²/2. Returns the point with e ≥ 0
    /// at `w`, or None where c(w) and s* differ in sign (no point of the set has that w).
    pub fn global_point(&self, w: f64) -> Option<CanonicalPoint> {
        let e2 = self.chain.slope / c_of(w);
        (e2 >= 0.0 && e2.is_finite()).then(|| CanonicalPoint { e: e2.sqrt(), w, b: self.chain.logit0 + e2 / 2.0 })
    }

    /// ∂²L/∂e² on the unigram set (spec §3): 2(p+q−1)·pq·(1+2w|w|)/(p+q)²; ∂²L/∂b² = π0π1, the
    /// w-curvature and mixed terms vanish.
    pub fn unigram_curvature_e(&self, w: f64) -> f64 {
        let ChainTheory { p, q, switching, .. } = self.chain;
        2.0 * (switching - 1.0) * p * q * c_of(w) / (switching * switching)
    }

    /// Classification of the unigram critical point at w: local min iff (p+q−1)(1+2w|w|) > 0.
    pub fn classify_unigram(&self, w: f64) -> Curvature {
        let k = self.unigram_curvature_e(w);
        if k > 0.0 {
            Curvature::LocalMin
        } else if k < 0.0 {
            Curvature::Saddle
        } else {
            Curvature::Flat
        }
    }

    /// The conserved energy E(e, w) = e² − w² − sign(w)·ln|w| (spec §3), constant along gradient
    /// flow in (e, w) with b at b*. Undefined at w = 0 (w = 0 is itself invariant), hence None.
    pub fn energy(e: f64, w: f64) -> Option<f64> {
        (w != 0.0).then(|| e * e - w * w - w.signum() * w.abs().ln())
    }

    /// The e ≥ 0 on the energy level E(e, w) = `level` at this w: e = √(level + w² + sign(w)ln|w|),
    /// or None where that level does not reach this w (or w = 0). The level through the saddle,
    /// `separatrix_energy()`, on w < 0 is the separatrix.
    pub fn energy_level_e(level: f64, w: f64) -> Option<f64> {
        let e2 = level + w * w + w.signum() * w.abs().ln();
        (w != 0.0 && e2 >= 0.0).then(|| e2.sqrt())
    }

    /// Predicted end of gradient flow from (e, w) (spec §3 "Basins of attraction").
    ///
    /// p+q < 1: unigram iff w < −1/√2 and E < E*. p+q > 1: unigram iff w ≥ 0, or −1/√2 < w < 0 and
    /// E < E*. The invariant line e = 0 is the unigram set itself and is reported as such.
    pub fn predicted_basin(&self, e: f64, w: f64) -> Basin {
        let s = self.chain.switching;
        if s == 1.0 {
            return Basin::Degenerate;
        }
        if e == 0.0 {
            return Basin::Unigram;
        }
        let below_star = Self::energy(e, w).is_some_and(|en| en < separatrix_energy());
        let unigram = if s < 1.0 { w < W_CRIT && below_star } else { w >= 0.0 || (w > W_CRIT && below_star) };
        if unigram { Basin::Unigram } else { Basin::Global }
    }

    /// How far (e, w) is from the boundaries of the predicted basins: the separatrix level
    /// E = E*, the line w = −1/√2 and the invariant lines e = 0, w = 0. Used to leave out points
    /// whose fate is decided by numerical noise.
    pub fn separatrix_distance(e: f64, w: f64) -> f64 {
        let de = Self::energy(e, w).map_or(0.0, |en| (en - separatrix_energy()).abs());
        de.min((w - W_CRIT).abs()).min(w.abs()).min(e.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(p: f64, q: f64) -> Canonical {
        Canonical::new(&BinaryChain::new(p, q).unwrap())
    }

    #[test]
    fn curvature_spec_checks() {
        assert!((model(0.2, 0.3).unigram_curvature_e(0.0) + 0.24).abs() < 1e-12);
        assert!((model(0.2, 0.3).unigram_curvature_e(-1.0) - 0.24).abs() < 1e-12);
        assert!((model(0.5, 0.8).unigram_curvature_e(0.0) - 0.142).abs() < 5e-4);
        assert_eq!(model(0.5, 0.8).classify_unigram(0.0), Curvature::LocalMin);
        assert_eq!(model(0.2, 0.3).classify_unigram(0.0), Curvature::Saddle);
    }

    #[test]
    fn optimal_bias_zeroes_the_b_gradient_even_far_out() {
        for (p, q) in [(0.2, 0.3), (0.5, 0.8), (0.9, 0.1), (0.02, 0.98), (0.3, 0.3)] {
            let m = model(p, q);
            for (e, w) in [(0.0, 0.0), (0.7, -1.2), (2.0, 1.5), (5.0, 3.0), (4.0, -4.0), (30.0, 2.0)] {
                let b = m.optimal_bias(e, w);
                assert!(b.is_finite(), "b* not finite at {p},{q},{e},{w}");
                let g = m.loss_grad(e, w, b).db;
                assert!(g.abs() < 1e-10, "∂L/∂b = {g} at {p},{q},{e},{w}");
            }
        }
    }

    #[test]
    fn loss_on_the_two_sets() {
        for (p, q) in [(0.2, 0.3), (0.5, 0.8), (0.9, 0.9), (0.1, 0.1)] {
            let m = model(p, q);
            let u = m.unigram_point(0.4);
            assert!((m.loss(u.e, u.w, u.b) - m.chain.unigram_loss).abs() < 1e-12);
            let w = if m.chain.slope > 0.0 { 0.3 } else { -1.3 };
            let g = m.global_point(w).unwrap();
            assert!((m.loss(g.e, g.w, g.b) - m.chain.entropy_rate).abs() < 1e-12);
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let m = model(0.3, 0.6);
        let (e, w, b) = (0.8, -0.4, 0.2);
        let g = m.loss_grad(e, w, b);
        let h = 1e-6;
        let fd = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
        assert!((g.de - fd(&|d| m.loss(e + d, w, b))).abs() < 1e-8);
        assert!((g.dw - fd(&|d| m.loss(e, w + d, b))).abs() < 1e-8);
        assert!((g.db - fd(&|d| m.loss(e, w, b + d))).abs() < 1e-8);
    }

    #[test]
    fn separatrix_energy_value() {
        assert!((separatrix_energy() + 0.8466).abs() < 5e-5);
        assert!((Canonical::energy(0.0, W_CRIT).unwrap() - separatrix_energy()).abs() < 1e-15);
        // The level curve inverts the energy.
        for (e, w) in [(0.7, -1.3), (1.2, 0.4), (0.1, -0.2)] {
            let level = Canonical::energy(e, w).unwrap();
            assert!((Canonical::energy_level_e(level, w).unwrap() - e).abs() < 1e-12);
        }
        assert_eq!(Canonical::energy_level_e(separatrix_energy(), 0.0), None);
    }
}
