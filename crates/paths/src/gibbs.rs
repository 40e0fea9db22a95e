//! Blocked Gibbs sampling of the finite-width posterior with Matheron's rule (spec §6).
//!
//! The network output is f(x) = c Σ_π aᵀ V^{L,h_L} ⋯ V^{1,h_1} V⁰ X̃_π(x) with c = 1/√(N_a ∏ N_ℓ)
//! (X̃ already holds √σ0/√(N0 Π)). Given the other blocks, f is linear in each block — a, the heads
//! {V^{ℓ,h}}_h of one layer, V⁰ — so each block's conditional is exactly Gaussian. A draw is
//! θ = θ₀ + σ² Bᵀ(σ² BBᵀ + τI)⁻¹(y − Bθ₀ − ε), θ₀ ~ N(0, σ²I), ε ~ N(0, τI): one P × P solve per
//! block and no step size. The design B is never formed: with f_μ = c Σ_π l_πᵀ V^{h(π)} r_π(μ)
//! (l_π the vector above the block, r_π(μ) the activation below it),
//! (BBᵀ)_{μν} = c² Σ_h Σ_{π,π' ∈ h} (l_π · l_π') r_π(μ) · r_π'(ν), Bθ₀ = c Σ_π r_π(μ) · (θ₀ᵀ l_π) and
//! Bᵀα = c Σ_{π ∈ h} l_π (Σ_μ α_μ r_π(μ))ᵀ.
//!
//! After every sweep the sampler records the sampled order parameter U_{ππ'} = w_π · w_π'/N_1
//! (spec §6) and the per-path read-out e_π = V⁰ᵀ b_π, so that f on any input set costs
//! Π · N0 per input. Several chains run in parallel (rayon); effective sample sizes (Geyer's initial
//! positive sequence) and split-R̂ are reported.

use nalgebra::{Cholesky, DMatrix, DVector};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::PathsError;
use crate::action::Architecture;
use crate::attention::{PathInputs, head_of_path};
use crate::kernel::PreKernels;
use attnlab_core::config::rules;
use attnlab_core::rng::{child_seed, seeded_rng};

/// Sampler settings (checked).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GibbsConfig {
    /// Sweeps per chain kept after burn-in.
    pub samples: usize,
    /// Burn-in sweeps per chain (discarded).
    pub burn_in: usize,
    /// Independent chains (run in parallel).
    pub chains: usize,
    /// Base seed; chain k uses child_seed(seed, k).
    pub seed: u64,
}

/// (b_π, e_π): one vector per path π, as a sweep returns them.
type PathVectors = (Vec<DVector<f64>>, Vec<DVector<f64>>);

impl GibbsConfig {
    /// Checks samples ≥ 4, chains ≥ 1.
    pub fn new(samples: usize, burn_in: usize, chains: usize, seed: u64) -> Result<Self, PathsError> {
        rules::at_least("samples", samples, 4)?;
        rules::at_least("chains", chains, 1)?;
        Ok(Self { samples, burn_in, chains, seed })
    }
}

/// What the sampler reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GibbsResult {
    /// The settings.
    pub config: GibbsConfig,
    /// Width N (all equal).
    pub width: f64,
    /// Sampled U_1 (mean over all kept sweeps of all chains), Π × Π.
    pub u_mean: Vec<Vec<f64>>,
    /// Monte-Carlo standard error of each entry of U (posterior sd / √ESS).
    pub u_se: Vec<Vec<f64>>,
    /// Effective sample size of each entry of U (summed over chains).
    pub u_ess: Vec<Vec<f64>>,
    /// Split-R̂ of each entry of U across chains.
    pub u_rhat: Vec<Vec<f64>>,
    /// Sampled mean predictor on the test inputs.
    pub test_mean: Vec<f64>,
    /// Posterior variance of f on the test inputs.
    pub test_var: Vec<f64>,
    /// Test accuracy of the sampled mean predictor, per chain.
    pub chain_accuracy: Vec<f64>,
    /// Smallest ESS over the U entries and the test-mean trace.
    pub min_ess: f64,
    /// Largest split-R̂ over the U entries and the test-mean trace.
    pub max_rhat: f64,
    /// Wall seconds per sweep (one chain).
    pub seconds_per_sweep: f64,
}

struct Chain<'a> {
    hpl: Vec<usize>,
    widths: Vec<usize>, // N_1..N_L
    n_a: usize,
    n0: usize,
    c: f64,
    u_norm: f64,
    tau: f64,
    y: &'a DVector<f64>,
    /// Pre-kernels of the training inputs (the Gram matrices of the V⁰ block), shared by the
    /// chains (Π(Π+1)/2 · P² values: 392 MB at P = 600 and 16 paths).
    pre: &'a PreKernels,
    /// X̃_πᵀ, N0 × P.
    xt: Vec<DMatrix<f64>>,
    v0: DMatrix<f64>,
    v: Vec<Vec<DMatrix<f64>>>,
    a: DMatrix<f64>, // 1 × N_a
    rng: ChaCha8Rng,
}

fn gaussian(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| StandardNormal.sample(rng))
}

/// The block's Gram matrix BBᵀ (P × P, without τ): from the pre-kernels when given, else per head
/// from pair products or, when `design_when_cheaper` and it is cheaper, from the design D_h.
fn block_gram(
    head_of: &[usize],
    l: &[DVector<f64>],
    r: &[DMatrix<f64>],
    gram: Option<&PreKernels>,
    c: f64,
    p: usize,
    design_when_cheaper: bool,
) -> DMatrix<f64> {
    let n_pi = head_of.len();
    let mut g = DMatrix::<f64>::zeros(p, p);
    if let Some(pk) = gram {
        // r_π = X̃_πᵀ is fixed: the Gram matrices are the pre-kernels C_{ππ'}.
        let n = pk.n_paths();
        let mut w = DMatrix::zeros(n, n);
        for a in 0..n_pi {
            for b in 0..n_pi {
                if head_of[a] == head_of[b] {
                    w[(a, b)] = l[a].dot(&l[b]) * c * c;
                }
            }
        }
        g = pk.kernel(&w);
    }
    // Without pre-kernels, per head h either sum the pairs (π, π') of h, each an r_πᵀ r_π' product
    // (P² · dim r each), or form the design D_h[μ, (i, j)] = Σ_{π∈h} l_π[i] r_π[j, μ] once and take
    // D_h D_hᵀ (P² · dim l · dim r): the latter is cheaper when dim l is below the number of pairs
    // — the read-out a (dim l = 1, all Π paths in one head: Π(Π+1)/2 pairs).
    let dim_l = l.first().map_or(0, |v| v.len());
    let heads = head_of.iter().copied().max().map_or(0, |h| h + 1);
    let mut designed = vec![false; heads];
    if gram.is_none() {
        for (h, done) in designed.iter_mut().enumerate() {
            let members: Vec<usize> = (0..n_pi).filter(|&a| head_of[a] == h).collect();
            let pairs = members.len() * (members.len() + 1) / 2;
            if !design_when_cheaper || members.is_empty() || dim_l >= pairs {
                continue;
            }
            let dim_r = r[members[0]].nrows();
            let mut d = DMatrix::<f64>::zeros(p, dim_l * dim_r);
            for &a in &members {
                for i in 0..dim_l {
                    let li = l[a][i];
                    if li == 0.0 {
                        continue;
                    }
                    for j in 0..dim_r {
                        let mut col = d.column_mut(i * dim_r + j);
                        col.axpy(li, &r[a].row(j).transpose(), 1.0);
                    }
                }
            }
            g += (&d * d.transpose()) * (c * c);
            *done = true;
        }
    }
    for a in 0..n_pi {
        if gram.is_some() {
            break;
        }
        if designed[head_of[a]] {
            continue;
        }
        for b in a..n_pi {
            if head_of[a] != head_of[b] {
                continue;
            }
            let coef = l[a].dot(&l[b]) * c * c;
            let m = r[a].transpose() * &r[b];
            if a == b {
                g += m * coef;
            } else {
                g += (&m + m.transpose()) * coef;
            }
        }
    }
    g
}

/// One Matheron draw of a block of per-head weights (unit prior variance).
fn update_block(
    ws: &mut [DMatrix<f64>],
    head_of: &[usize],
    l: &[DVector<f64>],
    r: &[DMatrix<f64>],
    gram: Option<&PreKernels>,
    c: f64,
    y: &DVector<f64>,
    tau: f64,
    rng: &mut ChaCha8Rng,
) -> bool {
    let p = y.len();
    let n_pi = head_of.len();
    let mut g = block_gram(head_of, l, r, gram, c, p, true);
    for i in 0..p {
        g[(i, i)] += tau;
    }
    let theta0: Vec<DMatrix<f64>> = ws.iter().map(|w| gaussian(w.nrows(), w.ncols(), rng)).collect();
    let mut rhs = y.clone();
    for pi in 0..n_pi {
        let t = theta0[head_of[pi]].transpose() * &l[pi];
        rhs -= r[pi].transpose() * t * c;
    }
    let sd = tau.sqrt();
    for i in 0..p {
        let e: f64 = StandardNormal.sample(rng);
        rhs[i] -= sd * e;
    }
    let Some(ch) = Cholesky::new(g) else { return false };
    let alpha = ch.solve(&rhs);
    for (h, w) in ws.iter_mut().enumerate() {
        *w = theta0[h].clone();
    }
    for pi in 0..n_pi {
        let ra = &r[pi] * &alpha;
        ws[head_of[pi]] += &l[pi] * ra.transpose() * c;
    }
    true
}

impl<'a> Chain<'a> {
    fn new(
        arch: &Architecture,
        train: &PathInputs,
        pre: &'a PreKernels,
        y: &'a DVector<f64>,
        tau: f64,
        seed: u64,
    ) -> Self {
        let mut rng = seeded_rng(seed);
        let hpl = arch.heads_per_layer().to_vec();
        let l = hpl.len();
        let widths: Vec<usize> = (0..l).map(|k| arch.width(k).round() as usize).collect();
        let n_a = arch.n_a().round() as usize;
        let n0 = train.n0();
        let prod: f64 = widths.iter().map(|&w| w as f64).product::<f64>() * n_a as f64;
        let v0 = gaussian(widths[0], n0, &mut rng);
        let v = (0..l)
            .map(|k| {
                let out = if k + 1 < l { widths[k + 1] } else { n_a };
                (0..hpl[k]).map(|_| gaussian(out, widths[k], &mut rng)).collect()
            })
            .collect();
        let a = gaussian(1, n_a, &mut rng);
        Self {
            hpl,
            widths,
            n_a,
            n0,
            c: 1.0 / prod.sqrt(),
            u_norm: prod,
            tau,
            y,
            pre,
            xt: train.z.iter().map(|z| z.transpose()).collect(),
            v0,
            v,
            a,
            rng,
        }
    }

    /// One sweep a → V^L → … → V^1 → V⁰; returns (b_π, e_π) of the new state.
    fn sweep(&mut self) -> Option<PathVectors> {
        let l = self.hpl.len();
        let n_pi: usize = self.hpl.iter().product();
        // Forward activations r^{(k)}_π, k = 0..=L+1 (input of block k: V⁰, V¹, …, V^L, a).
        let mut r: Vec<Vec<DMatrix<f64>>> = Vec::with_capacity(l + 2);
        r.push(self.xt.clone());
        r.push(r[0].iter().map(|x| &self.v0 * x).collect());
        for k in 0..l {
            let next = (0..n_pi).map(|pi| &self.v[k][head_of_path(&self.hpl, pi, k)] * &r[k + 1][pi]).collect();
            r.push(next);
        }
        // a: single head, l_π = [1].
        let ones = vec![DVector::from_element(1, 1.0); n_pi];
        let single = vec![0usize; n_pi];
        let mut a_blk = [self.a.clone()];
        if !update_block(&mut a_blk, &single, &ones, &r[l + 1], None, self.c, self.y, self.tau, &mut self.rng) {
            return None;
        }
        let [a_new] = a_blk;
        self.a = a_new;
        // Layers L..1, top-down, with the left vectors from the updated blocks above.
        let mut left: Vec<DVector<f64>> = vec![self.a.row(0).transpose(); n_pi];
        for k in (0..l).rev() {
            let heads: Vec<usize> = (0..n_pi).map(|pi| head_of_path(&self.hpl, pi, k)).collect();
            if !update_block(&mut self.v[k], &heads, &left, &r[k + 1], None, self.c, self.y, self.tau, &mut self.rng) {
                return None;
            }
            left = (0..n_pi).map(|pi| self.v[k][heads[pi]].transpose() * &left[pi]).collect();
        }
        // V⁰: single head, l_π = b_π.
        let mut v0 = [self.v0.clone()];
        if !update_block(&mut v0, &single, &left, &r[0], Some(self.pre), self.c, self.y, self.tau, &mut self.rng) {
            return None;
        }
        let [v0_new] = v0;
        self.v0 = v0_new;
        let e = left.iter().map(|b| self.v0.transpose() * b).collect();
        Some((left, e))
    }

    fn n_check(&self) -> bool {
        self.widths.iter().all(|&w| w > 0) && self.n_a > 0 && self.n0 > 0
    }
}

/// f on every input of `x` from the per-path read-outs e_π: f(x) = c Σ_π e_π · X̃_π(x).
fn predict(x: &PathInputs, e: &[DVector<f64>], c: f64) -> DVector<f64> {
    let mut f = DVector::zeros(x.len());
    for (z, ep) in x.z.iter().zip(e) {
        f += z * ep;
    }
    f * c
}

struct ChainOut {
    u_trace: Vec<Vec<f64>>, // per sample, Π² entries
    test_sum: DVector<f64>,
    test_sq: DVector<f64>,
    probe_trace: Vec<f64>,
    seconds_per_sweep: f64,
}

fn run_chain(
    arch: &Architecture,
    train: &PathInputs,
    pre: &PreKernels,
    y: &DVector<f64>,
    test: &PathInputs,
    tau: f64,
    cfg: &GibbsConfig,
    seed: u64,
    probe: usize,
) -> Result<ChainOut, PathsError> {
    let mut ch = Chain::new(arch, train, pre, y, tau, seed);
    if !ch.n_check() {
        return Err(PathsError::shape("width", "every width must be a positive integer for sampling"));
    }
    let n_pi = arch.n_paths();
    let mut out = ChainOut {
        u_trace: Vec::with_capacity(cfg.samples),
        test_sum: DVector::zeros(test.len()),
        test_sq: DVector::zeros(test.len()),
        probe_trace: Vec::with_capacity(cfg.samples),
        seconds_per_sweep: 0.0,
    };
    let t0 = std::time::Instant::now();
    for it in 0..cfg.burn_in + cfg.samples {
        let (b, e) = ch.sweep().ok_or(PathsError::NotPositiveDefinite("BBᵀ + τI in a Gibbs block"))?;
        if it < cfg.burn_in {
            continue;
        }
        let mut u = Vec::with_capacity(n_pi * n_pi);
        for p in 0..n_pi {
            for q in 0..n_pi {
                u.push(b[p].dot(&b[q]) / ch.u_norm);
            }
        }
        out.u_trace.push(u);
        let f = predict(test, &e, ch.c);
        out.probe_trace.push(f[probe.min(f.len() - 1)]);
        out.test_sq += f.component_mul(&f);
        out.test_sum += f;
    }
    out.seconds_per_sweep = t0.elapsed().as_secs_f64() / (cfg.burn_in + cfg.samples) as f64;
    Ok(out)
}

/// Effective sample size of one chain's trace (Geyer's initial positive sequence).
pub fn ess(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return n as f64;
    }
    let m = x.iter().sum::<f64>() / n as f64;
    let c0 = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
    if c0 <= 0.0 {
        return n as f64;
    }
    let rho = |k: usize| (0..n - k).map(|i| (x[i] - m) * (x[i + k] - m)).sum::<f64>() / (n as f64 * c0);
    let mut sum = 0.0;
    let mut k = 0;
    while 2 * k + 1 < n {
        let pair = if k == 0 { 1.0 + rho(1) } else { rho(2 * k) + rho(2 * k + 1) };
        if pair <= 0.0 {
            break;
        }
        sum += pair;
        k += 1;
    }
    let tau = (2.0 * sum - 1.0).max(1.0);
    n as f64 / tau
}

/// Split-R̂ of several chains' traces (each split in halves).
pub fn split_rhat(chains: &[Vec<f64>]) -> f64 {
    let mut parts: Vec<&[f64]> = Vec::new();
    for c in chains {
        let h = c.len() / 2;
        parts.push(&c[..h]);
        parts.push(&c[h..2 * h]);
    }
    let m = parts.len() as f64;
    let n = parts[0].len() as f64;
    let means: Vec<f64> = parts.iter().map(|p| p.iter().sum::<f64>() / n).collect();
    let grand = means.iter().sum::<f64>() / m;
    let b = n / (m - 1.0) * means.iter().map(|v| (v - grand).powi(2)).sum::<f64>();
    let w = parts
        .iter()
        .zip(&means)
        .map(|(p, mu)| p.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (n - 1.0))
        .sum::<f64>()
        / m;
    if w <= 0.0 {
        return 1.0;
    }
    (((n - 1.0) / n * w + b / n) / w).sqrt()
}

/// Samples the posterior of the network `arch` (integer widths, all prior variances as in `arch`)
/// on the training set and summarises U and the predictor on `test`.
pub fn sample(
    arch: &Architecture,
    train: &PathInputs,
    y: &[f64],
    test: &PathInputs,
    test_y: &[f64],
    tau: f64,
    cfg: &GibbsConfig,
) -> Result<GibbsResult, PathsError> {
    rules::positive("tau", tau)?;
    let yv = DVector::from_vec(y.to_vec());
    let probe = 0;
    let pre = PreKernels::new(train);
    let outs: Vec<ChainOut> = (0..cfg.chains)
        .into_par_iter()
        .map(|k| run_chain(arch, train, &pre, &yv, test, tau, cfg, child_seed(cfg.seed, k as u64), probe))
        .collect::<Result<_, _>>()?;
    let n_pi = arch.n_paths();
    let total = (cfg.samples * cfg.chains) as f64;
    let mut u_mean = vec![vec![0.0; n_pi]; n_pi];
    let mut u_se = vec![vec![0.0; n_pi]; n_pi];
    let mut u_ess = vec![vec![0.0; n_pi]; n_pi];
    let mut u_rhat = vec![vec![1.0; n_pi]; n_pi];
    let mut min_ess = f64::INFINITY;
    let mut max_rhat: f64 = 0.0;
    for p in 0..n_pi {
        for q in 0..n_pi {
            let traces: Vec<Vec<f64>> =
                outs.iter().map(|o| o.u_trace.iter().map(|u| u[p * n_pi + q]).collect()).collect();
            let all: Vec<f64> = traces.iter().flatten().copied().collect();
            let mean = all.iter().sum::<f64>() / total;
            let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (total - 1.0);
            let e: f64 = traces.iter().map(|t| ess(t)).sum();
            u_mean[p][q] = mean;
            u_ess[p][q] = e;
            u_se[p][q] = (var / e).sqrt();
            min_ess = min_ess.min(e);
            if cfg.chains > 1 {
                u_rhat[p][q] = split_rhat(&traces);
                max_rhat = max_rhat.max(u_rhat[p][q]);
            }
        }
    }
    let probes: Vec<Vec<f64>> = outs.iter().map(|o| o.probe_trace.clone()).collect();
    min_ess = min_ess.min(probes.iter().map(|t| ess(t)).sum());
    if cfg.chains > 1 {
        max_rhat = max_rhat.max(split_rhat(&probes));
    } else {
        max_rhat = split_rhat(&probes);
    }
    let mut sum = DVector::zeros(test.len());
    let mut sq = DVector::zeros(test.len());
    let mut chain_accuracy = Vec::new();
    for o in &outs {
        sum += &o.test_sum;
        sq += &o.test_sq;
        let m: Vec<f64> = (&o.test_sum / cfg.samples as f64).iter().copied().collect();
        chain_accuracy.push(crate::predict::accuracy(&m, test_y));
    }
    let test_mean: Vec<f64> = (&sum / total).iter().copied().collect();
    let test_var = (0..test.len()).map(|i| sq[i] / total - test_mean[i] * test_mean[i]).collect();
    let seconds_per_sweep = outs.iter().map(|o| o.seconds_per_sweep).sum::<f64>() / outs.len() as f64;
    Ok(GibbsResult {
        config: *cfg,
        width: arch.n_a(),
        u_mean,
        u_se,
        u_ess,
        u_rhat,
        test_mean,
        test_var,
        chain_accuracy,
        min_ess,
        max_rhat,
        seconds_per_sweep,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One Matheron draw of a single linear block has the exact Gaussian posterior: mean
    /// Bᵀ(BBᵀ + τI)⁻¹y and covariance I − Bᵀ(BBᵀ + τI)⁻¹B (unit prior), checked on 20000 draws.
    #[test]
    fn matheron_draws_have_the_exact_posterior_moments() {
        let (p, n_in, tau, c) = (3, 2, 0.3, 0.7);
        let mut rng = seeded_rng(11);
        let r = vec![DMatrix::from_fn(n_in, p, |_, _| StandardNormal.sample(&mut rng))];
        let y = DVector::from_vec(vec![0.5, -1.0, 0.8]);
        let l = vec![DVector::from_element(1, 1.0)];
        // B (P × n_in): f_μ = c Σ_i θ_i r[i, μ].
        let b = r[0].transpose() * c;
        let mut a = &b * b.transpose();
        for i in 0..p {
            a[(i, i)] += tau;
        }
        let ainv = a.try_inverse().unwrap_or_else(|| panic!("singular"));
        let mean = b.transpose() * &ainv * &y;
        let cov = DMatrix::identity(n_in, n_in) - b.transpose() * &ainv * &b;
        let draws = 20000;
        let mut sum = DVector::zeros(n_in);
        let mut sq = DMatrix::zeros(n_in, n_in);
        for _ in 0..draws {
            let mut w = [DMatrix::zeros(1, n_in)];
            assert!(update_block(&mut w, &[0], &l, &r, None, c, &y, tau, &mut rng));
            let t = w[0].row(0).transpose();
            sq += &t * t.transpose();
            sum += t;
        }
        let m = &sum / draws as f64;
        let cv = &sq / draws as f64 - &m * m.transpose();
        for i in 0..n_in {
            let se = (cov[(i, i)] / draws as f64).sqrt();
            assert!((m[i] - mean[i]).abs() < 5.0 * se, "mean {i}: {} vs {}", m[i], mean[i]);
            for j in 0..n_in {
                assert!((cv[(i, j)] - cov[(i, j)]).abs() < 0.03, "cov ({i},{j}): {} vs {}", cv[(i, j)], cov[(i, j)]);
            }
        }
    }

    #[test]
    fn ess_of_white_noise_is_near_n_and_of_a_sticky_chain_is_small() {
        let mut rng = seeded_rng(3);
        let x: Vec<f64> = (0..2000).map(|_| StandardNormal.sample(&mut rng)).collect();
        let e = ess(&x);
        assert!(e > 1500.0 && e <= 2600.0, "{e}");
        let mut s = 0.0;
        let y: Vec<f64> = x
            .iter()
            .map(|v| {
                s = 0.95 * s + v;
                s
            })
            .collect();
        assert!(ess(&y) < 200.0);
        assert!((split_rhat(&[x[..1000].to_vec(), x[1000..].to_vec()]) - 1.0).abs() < 0.05);
    }

    #[test]
    fn the_design_gram_equals_the_sum_over_path_pairs() {
        let mut rng = seeded_rng(5);
        let p = 7;
        // 6 paths: heads 0 (4 paths) and 1 (2 paths); dim l = 1 (designed for head 0 only) and 3.
        let head_of = [0, 0, 1, 0, 1, 0];
        let r: Vec<DMatrix<f64>> = (0..6).map(|_| gaussian(4, p, &mut rng)).collect();
        for dim_l in [1, 3] {
            let l: Vec<DVector<f64>> =
                (0..6).map(|_| DVector::from_fn(dim_l, |_, _| StandardNormal.sample(&mut rng))).collect();
            let pairs = block_gram(&head_of, &l, &r, None, 0.6, p, false);
            let designed = block_gram(&head_of, &l, &r, None, 0.6, p, true);
            let gap = (&pairs - &designed).abs().max();
            assert!(gap <= 1e-12 * (1.0 + pairs.abs().max()), "dim l {dim_l}: gap {gap}");
        }
    }
}
