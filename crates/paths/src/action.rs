//! The action S(U) of spec §3 for any depth L and heads per layer, with u_a in closed form and
//! analytic gradients with respect to every order parameter U_ℓ.
//!
//! S = S_ent + S_E with
//! - S_E = log det(K_U + τ I_P) + yᵀ (K_U + τ I_P)⁻¹ y, K_U = Σ U_1[π,π'] C_{ππ'};
//! - S_ent = N_a (u_a/σ_a − ln u_a) + N_L (tr U_L/(u_a σ_L) − ln det U_L + H_L ln u_a)
//!   + Σ_{ℓ<L} N_ℓ (tr(U_{ℓ+1}⁻¹ Tr_{h_ℓ} U_ℓ)/σ_ℓ − ln det U_ℓ + H_ℓ ln det U_{ℓ+1}),
//!
//! where U_ℓ acts on path segments (h_ℓ, …, h_L) and Tr_{h_ℓ} is the partial trace over the slowest
//! index. u_a = (−β + √(β² + 4γ))/2, β = σ_a(H_L N_L/N_a − 1), γ = tr(U_L) N_L σ_a/(N_a σ_L); by the
//! envelope theorem the gradient at fixed u_a is the gradient of S(U, u_a(U)).

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};
use serde::{Deserialize, Serialize};

use crate::PathsError;
use crate::kernel::PreKernels;
use attnlab_core::config::rules;

/// Depth, heads per layer, widths and prior variances of the network (spec §1–2). Checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    heads_per_layer: Vec<usize>,
    widths: Vec<f64>,
    n_a: f64,
    sigma0: f64,
    sigma: Vec<f64>,
    sigma_a: f64,
}

impl Architecture {
    /// Every width equal to `n` and every prior variance 1 (all experiments of the paper).
    pub fn equal_width(heads_per_layer: &[usize], n: f64) -> Result<Self, PathsError> {
        let l = heads_per_layer.len();
        Self::new(heads_per_layer.to_vec(), vec![n; l], n, 1.0, vec![1.0; l], 1.0)
    }

    /// Checks the fields: at least one layer, every H_ℓ ≥ 1, widths N_ℓ (input width of V^ℓ,
    /// ℓ = 1..L) and N_a positive, every σ positive.
    pub fn new(
        heads_per_layer: Vec<usize>,
        widths: Vec<f64>,
        n_a: f64,
        sigma0: f64,
        sigma: Vec<f64>,
        sigma_a: f64,
    ) -> Result<Self, PathsError> {
        rules::at_least("heads", heads_per_layer.len(), 1)?;
        for &h in &heads_per_layer {
            rules::at_least("heads", h, 1)?;
        }
        if widths.len() != heads_per_layer.len() || sigma.len() != heads_per_layer.len() {
            return Err(PathsError::shape("width", "one width and one prior variance per layer"));
        }
        for &w in &widths {
            rules::positive("width", w)?;
        }
        rules::positive("width", n_a)?;
        rules::positive("sigma0", sigma0)?;
        for &s in &sigma {
            rules::positive("sigma", s)?;
        }
        rules::positive("sigma_a", sigma_a)?;
        Ok(Self { heads_per_layer, widths, n_a, sigma0, sigma, sigma_a })
    }

    /// H_ℓ for ℓ = 1..L.
    pub fn heads_per_layer(&self) -> &[usize] {
        &self.heads_per_layer
    }
    /// Depth L.
    pub fn depth(&self) -> usize {
        self.heads_per_layer.len()
    }
    /// Π = ∏ H_ℓ.
    pub fn n_paths(&self) -> usize {
        self.heads_per_layer.iter().product()
    }
    /// Size of U_ℓ (0-based ℓ): ∏_{k ≥ ℓ} H_k.
    pub fn size(&self, layer: usize) -> usize {
        self.heads_per_layer[layer..].iter().product()
    }
    /// N_ℓ, the input width of V^ℓ (0-based ℓ ↦ N_{ℓ+1}).
    pub fn width(&self, layer: usize) -> f64 {
        self.widths[layer]
    }
    /// N_a.
    pub fn n_a(&self) -> f64 {
        self.n_a
    }
    /// The normalisation of the action: max over all widths (the reference minimises S/max N).
    pub fn n_max(&self) -> f64 {
        self.widths.iter().copied().fold(self.n_a, f64::max)
    }
    /// σ0.
    pub fn sigma0(&self) -> f64 {
        self.sigma0
    }
    /// σ_ℓ (0-based).
    pub fn sigma(&self, layer: usize) -> f64 {
        self.sigma[layer]
    }
    /// σ_a.
    pub fn sigma_a(&self) -> f64 {
        self.sigma_a
    }
    /// The same architecture at another (equal) width.
    pub fn with_equal_width(&self, n: f64) -> Result<Self, PathsError> {
        Self::new(self.heads_per_layer.clone(), vec![n; self.depth()], n, self.sigma0, self.sigma.clone(), self.sigma_a)
    }
}

/// The order parameters: U_1, …, U_L (U_1 enters K) and u_a.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderParams {
    /// U_ℓ for ℓ = 1..L (index 0 is U_1, the Π × Π matrix of K).
    pub u: Vec<DMatrix<f64>>,
    /// u_a (scalar), from its closed form.
    pub u_a: f64,
}

impl OrderParams {
    /// U_ℓ as nested rows (for JSON records).
    pub fn u_rows(&self) -> Vec<Vec<Vec<f64>>> {
        self.u.iter().map(|m| (0..m.nrows()).map(|i| m.row(i).iter().copied().collect()).collect()).collect()
    }

    /// Rebuilds from nested rows.
    pub fn from_rows(u: &[Vec<Vec<f64>>], u_a: f64) -> Self {
        let u = u.iter().map(|m| DMatrix::from_fn(m.len(), m.len(), |i, j| m[i][j])).collect();
        Self { u, u_a }
    }

    /// The GP limit (spec §3 "Role of α"): u_a = σ_a, U_ℓ = σ_a ∏_{k ≥ ℓ} σ_k I.
    pub fn gp(arch: &Architecture) -> Self {
        let l = arch.depth();
        let u = (0..l)
            .map(|layer| {
                let s: f64 = arch.sigma_a * (layer..l).map(|k| arch.sigma(k)).product::<f64>();
                DMatrix::identity(arch.size(layer), arch.size(layer)) * s
            })
            .collect();
        Self { u, u_a: arch.sigma_a }
    }
}

/// Partial trace over the slowest index: (Tr_h U)[π, π'] = Σ_h U[(h,π), (h,π')].
pub fn partial_trace(u: &DMatrix<f64>, h: usize) -> DMatrix<f64> {
    let m = u.nrows() / h;
    let mut t = DMatrix::zeros(m, m);
    for k in 0..h {
        t += u.view((k * m, k * m), (m, m));
    }
    t
}

/// I_H ⊗ A (block diagonal, H copies of A).
pub fn kron_identity(h: usize, a: &DMatrix<f64>) -> DMatrix<f64> {
    let m = a.nrows();
    let mut out = DMatrix::zeros(h * m, h * m);
    for k in 0..h {
        out.view_mut((k * m, k * m), (m, m)).copy_from(a);
    }
    out
}

/// u_a in closed form from U_L (spec §3).
pub fn u_a_closed_form(arch: &Architecture, u_l: &DMatrix<f64>) -> f64 {
    let l = arch.depth() - 1;
    let (n_l, h_l, s_l) = (arch.width(l), arch.heads_per_layer[l] as f64, arch.sigma(l));
    let beta = arch.sigma_a * (h_l * n_l / arch.n_a - 1.0);
    let gamma = u_l.trace() * n_l * arch.sigma_a / (arch.n_a * s_l);
    // Stable root of u² + βu − γ = 0.
    let disc = (beta * beta + 4.0 * gamma).sqrt();
    if beta > 0.0 { 2.0 * gamma / (beta + disc) } else { (disc - beta) / 2.0 }
}

/// The value and gradient of S at one point.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// S (not divided by N).
    pub s: f64,
    /// S_ent.
    pub s_ent: f64,
    /// S_E.
    pub s_e: f64,
    /// u_a at this U.
    pub u_a: f64,
    /// ∂S/∂U_ℓ (symmetric), ℓ = 1..L.
    pub grad: Vec<DMatrix<f64>>,
}

/// The action of one training set, architecture and temperature.
#[derive(Debug, Clone)]
pub struct Action {
    /// The architecture.
    pub arch: Architecture,
    /// Pre-kernels of the training inputs.
    pub kernels: PreKernels,
    /// Training labels.
    pub y: DVector<f64>,
    /// τ (likelihood variance), ≥ 0.
    pub tau: f64,
}

fn chol_logdet_inv(a: &DMatrix<f64>) -> Option<(f64, DMatrix<f64>, Cholesky<f64, Dyn>)> {
    if !a.iter().all(|v| v.is_finite()) {
        return None;
    }
    let ch = Cholesky::new(a.clone())?;
    let logdet = 2.0 * ch.l_dirty().diagonal().iter().map(|d| d.ln()).sum::<f64>();
    if !logdet.is_finite() {
        return None;
    }
    let inv = ch.inverse();
    Some((logdet, inv, ch))
}

impl Action {
    /// Builds the action; checks τ ≥ 0 and that y and the kernels agree in size.
    pub fn new(arch: Architecture, kernels: PreKernels, y: DVector<f64>, tau: f64) -> Result<Self, PathsError> {
        rules::non_negative("tau", tau)?;
        if y.len() != kernels.p() {
            return Err(PathsError::shape("y", format!("{} labels for {} inputs", y.len(), kernels.p())));
        }
        if kernels.n_paths() != arch.n_paths() {
            return Err(PathsError::shape("heads", "path count of the inputs and of the architecture differ"));
        }
        Ok(Self { arch, kernels, y, tau })
    }

    /// K_U + τ I on the training set.
    pub fn regularised_kernel(&self, u1: &DMatrix<f64>) -> DMatrix<f64> {
        let mut k = self.kernels.kernel(u1);
        for i in 0..k.nrows() {
            k[(i, i)] += self.tau;
        }
        k
    }

    /// S and its gradient at U (u_a from its closed form); `None` where some U_ℓ or K + τI is not
    /// positive definite (the action is +∞ there).
    pub fn evaluate(&self, u: &[DMatrix<f64>]) -> Option<Evaluation> {
        let arch = &self.arch;
        let l = arch.depth();
        let mut logdets = Vec::with_capacity(l);
        let mut invs = Vec::with_capacity(l);
        for m in u {
            let (ld, inv, _) = chol_logdet_inv(m)?;
            logdets.push(ld);
            invs.push(inv);
        }
        let mut grad: Vec<DMatrix<f64>> = u.iter().map(|m| DMatrix::zeros(m.nrows(), m.ncols())).collect();

        // Entropy, top lines.
        let u_a = u_a_closed_form(arch, &u[l - 1]);
        if !(u_a > 0.0 && u_a.is_finite()) {
            return None;
        }
        let (n_l, h_l, s_l) = (arch.width(l - 1), arch.heads_per_layer[l - 1] as f64, arch.sigma(l - 1));
        let mut s_ent = arch.n_a * (u_a / arch.sigma_a - u_a.ln());
        s_ent += n_l * (u[l - 1].trace() / (u_a * s_l) - logdets[l - 1] + h_l * u_a.ln());
        let size_l = u[l - 1].nrows();
        grad[l - 1] += (DMatrix::identity(size_l, size_l) / (u_a * s_l) - &invs[l - 1]) * n_l;
        // Entropy, lines ℓ = 1..L−1.
        for layer in 0..l - 1 {
            let (n, h, s) = (arch.width(layer), arch.heads_per_layer[layer], arch.sigma(layer));
            let tr = partial_trace(&u[layer], h);
            let a = &invs[layer + 1];
            s_ent += n * ((a * &tr).trace() / s - logdets[layer] + h as f64 * logdets[layer + 1]);
            grad[layer] += (kron_identity(h, a) / s - &invs[layer]) * n;
            grad[layer + 1] += (-(a * &tr * a) / s + a * h as f64) * n;
        }

        // Energy.
        let kreg = self.regularised_kernel(&u[0]);
        let (logdet_k, g, _) = chol_logdet_inv(&kreg)?;
        let v = &g * &self.y;
        let s_e = logdet_k + self.y.dot(&v);
        let m = &g - &v * v.transpose();
        grad[0] += self.kernels.contract(&m);

        let s = s_ent + s_e;
        if !s.is_finite() {
            return None;
        }
        // Symmetrise against round-off.
        for gm in &mut grad {
            let t = gm.transpose();
            *gm = (&*gm + t) * 0.5;
        }
        Some(Evaluation { s, s_ent, s_e, u_a, grad })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_trace_over_slowest_index() {
        let u = DMatrix::from_fn(4, 4, |i, j| (10 * i + j) as f64);
        let t = partial_trace(&u, 2);
        assert_eq!(t[(0, 1)], u[(0, 1)] + u[(2, 3)]);
        assert_eq!(t[(1, 0)], u[(1, 0)] + u[(3, 2)]);
    }

    #[test]
    fn u_a_solves_its_stationarity_equation() {
        let arch = Architecture::new(vec![2, 3], vec![5.0, 7.0], 4.0, 1.0, vec![1.3, 0.7], 1.9)
            .unwrap_or_else(|e| panic!("{e}"));
        let ul = DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 2.0, 0.5]));
        let ua = u_a_closed_form(&arch, &ul);
        // ∂/∂u_a [N_a(u/σ_a − ln u) + N_L(tr U_L/(u σ_L) + H_L ln u)] = 0
        let d = 4.0 / 1.9 - 4.0 / ua - 7.0 * ul.trace() / (ua * ua * 0.7) + 7.0 * 3.0 / ua;
        assert!(d.abs() < 1e-12, "{d}");
    }
}
