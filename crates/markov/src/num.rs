//! Small numerically stable helpers: σ, ln σ, binary entropy h, log-add-exp.

/// The logistic function σ(x) = 1/(1+e^{−x}), stable for large |x|.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let z = x.exp();
        z / (1.0 + z)
    }
}

/// ln σ(x) = −softplus(−x), stable for large |x|.
pub fn ln_sigmoid(x: f64) -> f64 {
    -softplus(-x)
}

/// softplus(y) = ln(1 + e^y).
pub fn softplus(y: f64) -> f64 {
    y.max(0.0) + (-y.abs()).exp().ln_1p()
}

/// Binary entropy in nats, h(x) = −x ln x − (1−x) ln(1−x), with h(0) = h(1) = 0.
pub fn binary_entropy(x: f64) -> f64 {
    // ln(1−x) via ln_1p keeps full relative precision for tiny x.
    let a = if x > 0.0 { -x * x.ln() } else { 0.0 };
    let b = if x < 1.0 { -(1.0 - x) * (-x).ln_1p() } else { 0.0 };
    a + b
}

/// ln(e^a + e^b) without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY { m } else { m + ((a - m).exp() + (b - m).exp()).ln() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_and_log_sigmoid_are_stable() {
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-15);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(sigmoid(800.0), 1.0);
        assert!((ln_sigmoid(-800.0) + 800.0).abs() < 1e-12);
        assert!(ln_sigmoid(800.0).abs() < 1e-300);
        assert!((ln_sigmoid(1.3) - sigmoid(1.3).ln()).abs() < 1e-15);
    }

    #[test]
    fn entropy_values() {
        assert!((binary_entropy(0.5) - std::f64::consts::LN_2).abs() < 1e-15);
        assert_eq!(binary_entropy(0.0), 0.0);
        assert!((binary_entropy(0.2) - binary_entropy(0.8)).abs() < 1e-15);
    }

    #[test]
    fn log_add_exp_matches_naive() {
        assert!((log_add_exp(1.0, 2.0) - (1f64.exp() + 2f64.exp()).ln()).abs() < 1e-14);
        assert!((log_add_exp(1000.0, 1000.0) - (1000.0 + std::f64::consts::LN_2)).abs() < 1e-12);
    }
}
