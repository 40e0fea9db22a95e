//! The hidden-Markov-chain classification task (spec §5, code `markov_optionE`).
//!
//! Tokens t = 1..30 are v_{s_t} + noise for a hidden ±1 chain that stays with probability p (0.7 for
//! class +1, 0.3 for class −1); token 0 is bos with zero features; every token carries a one-hot
//! position, so N0 = n_f + T. Heads: *good* (attends to t−1 when the state stayed, else to bos),
//! *uniform*, *random* (near one-hot input-dependent attention) and the zero head (uniform).

use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::PathsError;
use attnlab_core::config::rules;
use attnlab_core::rng::{child_seed, seeded_rng};

/// Task parameters (checked).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MarkovTask {
    /// Feature dimension n_f (even).
    pub n_f: usize,
    /// Visible tokens (T = t_vis + 1 with bos).
    pub t_vis: usize,
    /// Training examples P (half per class, class +1 first).
    pub p_train: usize,
    /// Test examples.
    pub p_test: usize,
    /// Stay probability of class +1.
    pub p_plus: f64,
    /// Stay probability of class −1.
    pub p_minus: f64,
    /// Weight of the in-plane noise along e1 ∝ v₊ + v₋.
    pub noise_e1: f64,
    /// Weight of the in-plane noise along e2 ∝ v₊ − v₋.
    pub noise_e2: f64,
    /// σ⊥: weight of the out-of-plane noise.
    pub sigma_perp: f64,
    /// β, the inverse temperature multiplying every head's W.
    pub beta: f64,
}

impl MarkovTask {
    /// The spec §5 task with out-of-plane noise σ⊥ (1 for Fig 2c, 5 for Fig 2e).
    pub fn spec(sigma_perp: f64) -> Result<Self, PathsError> {
        Self::new(200, 30, 100, 1000, 0.7, 0.3, 1.0, 1.0, sigma_perp, 10.0)
    }

    /// Checks every field.
    pub fn new(
        n_f: usize,
        t_vis: usize,
        p_train: usize,
        p_test: usize,
        p_plus: f64,
        p_minus: f64,
        noise_e1: f64,
        noise_e2: f64,
        sigma_perp: f64,
        beta: f64,
    ) -> Result<Self, PathsError> {
        rules::at_least("n_f", n_f, 4)?;
        if !n_f.is_multiple_of(2) {
            return Err(PathsError::shape("n_f", "must be even"));
        }
        rules::at_least("t_vis", t_vis, 2)?;
        rules::at_least("p_train", p_train, 2)?;
        rules::at_least("p_test", p_test, 2)?;
        rules::prob_open("p_plus", p_plus)?;
        rules::prob_open("p_minus", p_minus)?;
        rules::non_negative("noise_e1", noise_e1)?;
        rules::non_negative("noise_e2", noise_e2)?;
        rules::non_negative("sigma_perp", sigma_perp)?;
        // The kernels grow like σ⊥²; past this they overflow and K + τI stops being a matrix of
        // finite numbers (it was reported as "not positive definite", naming no field).
        if sigma_perp > 1e150 {
            return Err(attnlab_core::ConfigError::new(
                "sigma_perp",
                sigma_perp,
                "must be at most 1e150 (σ⊥² must stay a finite f64)",
            )
            .into());
        }
        rules::positive("beta", beta)?;
        Ok(Self { n_f, t_vis, p_train, p_test, p_plus, p_minus, noise_e1, noise_e2, sigma_perp, beta })
    }

    /// Tokens including bos.
    pub fn t(&self) -> usize {
        self.t_vis + 1
    }

    /// Input dimension N0 = n_f + T.
    pub fn n0(&self) -> usize {
        self.n_f + self.t()
    }

    /// Emission vector v₊ (s = +1) or v₋ (s = −1): √2 on one half of the features.
    pub fn emission(&self, s: i8) -> DVector<f64> {
        let h = self.n_f / 2;
        DVector::from_fn(self.n_f, |i, _| if (i < h) == (s > 0) { std::f64::consts::SQRT_2 } else { 0.0 })
    }

    /// One input sequence of class `label` (±1): N0 × T, column 0 = bos.
    pub fn sample(&self, label: f64, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
        let (nf, t) = (self.n_f, self.t());
        let stay = if label > 0.0 { self.p_plus } else { self.p_minus };
        let e1 = DVector::from_element(nf, 1.0 / (nf as f64).sqrt());
        let h = nf / 2;
        let e2 = DVector::from_fn(nf, |i, _| if i < h { 1.0 } else { -1.0 } / (nf as f64).sqrt());
        let (vp, vm) = (self.emission(1), self.emission(-1));
        let mut x = DMatrix::zeros(self.n0(), t);
        let mut s: i8 = if rng.random::<bool>() { 1 } else { -1 };
        for tok in 1..t {
            if tok > 1 && rng.random::<f64>() >= stay {
                s = -s;
            }
            let z = DVector::from_fn(nf, |_, _| StandardNormal.sample(rng));
            let (a1, a2) = (z.dot(&e1), z.dot(&e2));
            let perp = &z - &e1 * a1 - &e2 * a2;
            let noise = &e1 * (self.noise_e1 * a1) + &e2 * (self.noise_e2 * a2) + perp * self.sigma_perp;
            let v = if s > 0 { &vp } else { &vm };
            x.view_mut((0, tok), (nf, 1)).copy_from(&(v + noise));
        }
        for tok in 0..t {
            x[(nf + tok, tok)] = 1.0;
        }
        x
    }

    /// `n` examples, the first half of class +1 and the rest −1 (spec §5 "Data sizes").
    pub fn dataset(&self, n: usize, seed: u64) -> Dataset {
        let mut rng = seeded_rng(seed);
        let n_plus = n / 2;
        let y: Vec<f64> = (0..n).map(|i| if i < n_plus { 1.0 } else { -1.0 }).collect();
        let x = y.iter().map(|&l| self.sample(l, &mut rng)).collect();
        Dataset { x, y }
    }

    /// The *good* head (`same_token`, shift −1), times β.
    pub fn good_head(&self) -> DMatrix<f64> {
        let (nf, t) = (self.n_f, self.t());
        let q = (self.emission(1) - self.emission(-1)) / nf as f64;
        let mut w = DMatrix::zeros(self.n0(), self.n0());
        w.view_mut((0, 0), (nf, nf)).copy_from(&(&q * q.transpose()));
        for s in 1..t - 1 {
            w[(nf + s, nf + s + 1)] = 1.0;
        }
        for tq in 1..t {
            w[(nf, nf + tq)] = 1.5;
        }
        w * self.beta
    }

    /// The *uniform* head: position block all ones (exactly uniform attention), times β.
    pub fn uniform_head(&self) -> DMatrix<f64> {
        let (nf, t) = (self.n_f, self.t());
        let mut w = DMatrix::zeros(self.n0(), self.n0());
        w.view_mut((nf, nf), (t, t)).fill(1.0);
        w * self.beta
    }

    /// The zero head (uniform attention).
    pub fn zero_head(&self) -> DMatrix<f64> {
        DMatrix::zeros(self.n0(), self.n0())
    }

    /// The *random* head (`blank`, perturbation ε): feature block ε N(0,1)/n_f, position block
    /// ε N(0,1), cross blocks ε N(0,1)/√n_f; times β.
    pub fn random_head(&self, eps: f64, seed: u64) -> DMatrix<f64> {
        let mut rng = seeded_rng(seed);
        let nf = self.n_f;
        let n0 = self.n0();
        let mut w = DMatrix::zeros(n0, n0);
        for j in 0..n0 {
            for i in 0..n0 {
                let g: f64 = StandardNormal.sample(&mut rng);
                let scale = match (i < nf, j < nf) {
                    (true, true) => 1.0 / nf as f64,
                    (false, false) => 1.0,
                    _ => 1.0 / (nf as f64).sqrt(),
                };
                w[(i, j)] = eps * g * scale;
            }
        }
        w * self.beta
    }

    /// The heads of a network configuration (spec §5 "Network configurations"); random heads are
    /// seeded from `seed`.
    pub fn heads(&self, config: NetConfig, seed: u64) -> Vec<Vec<DMatrix<f64>>> {
        let r1 = || self.random_head(1.0, child_seed(seed, 1));
        let r2 = || self.random_head(1.0, child_seed(seed, 2));
        match config {
            NetConfig::FourPaths => vec![vec![self.good_head(), r1()], vec![self.uniform_head(), r2()]],
            NetConfig::TwoPaths => vec![vec![self.good_head(), self.zero_head()], vec![self.uniform_head()]],
            NetConfig::GoodOnly => vec![vec![self.good_head()], vec![self.uniform_head()]],
            NetConfig::GoodDenoising => vec![vec![self.good_head(), r1()], vec![self.uniform_head()]],
        }
    }
}

/// A data set: inputs (N0 × T each) and ±1 labels.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Inputs.
    pub x: Vec<DMatrix<f64>>,
    /// Labels ±1.
    pub y: Vec<f64>,
}

/// The network configurations of spec §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetConfig {
    /// Layer 1 = [good, random], layer 2 = [uniform, random]: paths g, a1, d, a2 (index 0..3).
    FourPaths,
    /// Layer 1 = [good, zero], layer 2 = [uniform]: paths g, d (Fig 2e).
    TwoPaths,
    /// GP reference: layer 1 = [good], layer 2 = [uniform].
    GoodOnly,
    /// GP reference: layer 1 = [good, random], layer 2 = [uniform].
    GoodDenoising,
}

impl NetConfig {
    /// Path names in path-index order.
    pub fn path_names(&self) -> &'static [&'static str] {
        match self {
            NetConfig::FourPaths => &["g", "a1", "d", "a2"],
            NetConfig::TwoPaths => &["g", "d"],
            NetConfig::GoodOnly => &["g"],
            NetConfig::GoodDenoising => &["g", "d"],
        }
    }
}

/// Deterministic `Rng` helper so callers need not import rand traits.
pub fn uniform01(rng: &mut ChaCha8Rng) -> f64 {
    rng.random::<f64>()
}

/// Seeds of one Markov experiment: training data, test data and the random heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSeeds {
    /// Training set.
    pub train: u64,
    /// Test set.
    pub test: u64,
    /// Random heads.
    pub heads: u64,
}

impl TaskSeeds {
    /// All three from one base seed.
    pub fn from_base(seed: u64) -> Self {
        Self { train: child_seed(seed, 27), test: child_seed(seed, 59), heads: child_seed(seed, 3) }
    }
}

/// The theory side of the Markov task for one network configuration: data, heads, path inputs and
/// pre-kernels, ready to solve U at any width.
pub struct MarkovTheory {
    /// Task.
    pub task: MarkovTask,
    /// Configuration.
    pub config: NetConfig,
    /// Heads W^{ℓ,h}.
    pub heads: Vec<Vec<DMatrix<f64>>>,
    /// Training data.
    pub train: Dataset,
    /// Test data.
    pub test: Dataset,
    /// X̃ on the training set.
    pub train_inputs: crate::PathInputs,
    /// X̃ on the test set.
    pub test_inputs: crate::PathInputs,
    /// Pre-kernels on the training set.
    pub kernels: crate::PreKernels,
    /// τ.
    pub tau: f64,
}

/// One width's theory result on the Markov task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidthResult {
    /// N.
    pub width: f64,
    /// [U_1, …, U_L].
    pub u: Vec<Vec<Vec<f64>>>,
    /// u_a.
    pub u_a: f64,
    /// S/N.
    pub action_per_width: f64,
    /// Test accuracy of the mean predictor.
    pub test_accuracy: f64,
    /// Per test input, whether the mean predictor's sign is right (what `test_accuracy` averages):
    /// two widths' accuracies on the one shared test set are compared with a paired test on these.
    #[serde(default)]
    pub test_correct: Vec<bool>,
    /// Mean predictor variance averaged over the test set.
    pub mean_test_variance: f64,
    /// Solver iterations.
    pub iterations: usize,
    /// Final max |∂(S/N)/∂U|.
    pub max_grad: f64,
    /// Wall time of the solve, seconds.
    pub solve_s: f64,
}

impl MarkovTheory {
    /// Builds data, heads and kernels (P_train and P_test from the task).
    pub fn new(task: MarkovTask, config: NetConfig, seeds: TaskSeeds, tau: f64) -> Result<Self, PathsError> {
        rules::non_negative("tau", tau)?;
        let heads = task.heads(config, seeds.heads);
        let train = task.dataset(task.p_train, seeds.train);
        let test = task.dataset(task.p_test, seeds.test);
        Ok(Self::from_parts(task, config, heads, train, test, tau))
    }

    /// Builds the theory for given heads and data sets.
    pub fn from_parts(
        task: MarkovTask,
        config: NetConfig,
        heads: Vec<Vec<DMatrix<f64>>>,
        train: Dataset,
        test: Dataset,
        tau: f64,
    ) -> Self {
        let train_inputs = crate::PathInputs::new(&train.x, &heads, crate::Readout::LastToken, 1.0);
        let test_inputs = crate::PathInputs::new(&test.x, &heads, crate::Readout::LastToken, 1.0);
        let kernels = crate::PreKernels::new(&train_inputs);
        Self { task, config, heads, train, test, train_inputs, test_inputs, kernels, tau }
    }

    /// Heads per layer.
    pub fn heads_per_layer(&self) -> Vec<usize> {
        self.heads.iter().map(Vec::len).collect()
    }

    /// The action at width N (all widths equal, all variances 1).
    pub fn action(&self, width: f64) -> Result<crate::Action, PathsError> {
        let arch = crate::Architecture::equal_width(&self.heads_per_layer(), width)?;
        crate::Action::new(arch, self.kernels.clone(), DVector::from_vec(self.train.y.clone()), self.tau)
    }

    /// Test accuracy and mean variance of the predictor with kernel weights `u1`.
    pub fn evaluate(&self, u1: &DMatrix<f64>) -> Result<(f64, f64, Vec<f64>), PathsError> {
        let y = DVector::from_vec(self.train.y.clone());
        let pred = crate::predict::Predictor::new(&self.train_inputs, &self.kernels, u1, &y, self.tau)?;
        let (mean, var) = pred.mean_var(&self.test_inputs);
        let acc = crate::predict::accuracy(&mean, &self.test.y);
        let mv = var.iter().sum::<f64>() / var.len() as f64;
        Ok((acc, mv, mean))
    }

    /// GP-limit accuracy (U = I).
    pub fn gp_accuracy(&self) -> Result<f64, PathsError> {
        let n = self.train_inputs.n_paths();
        Ok(self.evaluate(&DMatrix::identity(n, n))?.0)
    }

    /// Solves U at width N (optionally warm-started) and evaluates the predictor.
    pub fn solve_width(
        &self,
        width: f64,
        start: Option<&crate::OrderParams>,
    ) -> Result<(WidthResult, crate::OrderParams), PathsError> {
        let t0 = std::time::Instant::now();
        let action = self.action(width)?;
        let sol = crate::solve(&action, start, &crate::SolverOptions::default())?;
        let solve_s = t0.elapsed().as_secs_f64();
        let (acc, mv, mean) = self.evaluate(&sol.params.u[0])?;
        let test_correct = mean.iter().zip(&self.test.y).map(|(p, y)| *p != 0.0 && p.signum() == y.signum()).collect();
        Ok((
            WidthResult {
                width,
                u: sol.params.u_rows(),
                u_a: sol.params.u_a,
                action_per_width: sol.action_per_width,
                test_accuracy: acc,
                test_correct,
                mean_test_variance: mv,
                iterations: sol.iterations,
                max_grad: sol.max_grad,
                solve_s,
            },
            sol.params,
        ))
    }
}
