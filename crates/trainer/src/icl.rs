//! The in-context network of the paths image-free stand-in for Fig 3 (spec paths §5 "One-shot
//! image classification"): a synthetic in-context classification task and the gradient-descent
//! network (learned input projection, L = 2 layers of H = 4 summed heads with scale 1/√(H N), q/k
//! computed from the raw input x at every layer, no residual, no MLP, mean pooling, linear
//! read-out), trained by the trainer's one loop ([`crate::train::step_loop`]) with its one optimiser
//! ([`AdamW`] with weight decay 0, i.e. Adam; β2 = 0.999, ε = 1e-8) under a cosine decay to lr/10.
//!
//! Task (2-way, 1-shot, in context): two class prototypes c₁, c₂ ~ N(0, I_d) per episode; the
//! sequence holds M tokens of each support item (noisy copies c + σ n, each tagged with its label's
//! one-hot), in random support order, then M tokens of the query item (a noisy copy of one of the
//! prototypes) tagged "unknown". The target is the query's label ±1. Token = [features (d); label
//! one-hot (+, −, ?)], so N0 = d + 3 and T = 3M.

use attnlab_core::rng::seeded_rng;
use candle_core::{D, Device, Tensor, Var};
use nalgebra::DMatrix;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::model::Param;
use crate::optim::{AdamState, AdamW, CosineDecay};
use crate::train::step_loop;

/// The synthetic in-context task.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IclTask {
    /// Feature dimension d.
    pub d: usize,
    /// Tokens per item M.
    pub m: usize,
    /// Token noise σ.
    pub noise: f64,
}

impl IclTask {
    /// N0 = d + 3.
    pub fn n0(&self) -> usize {
        self.d + 3
    }
    /// T = 3M.
    pub fn t(&self) -> usize {
        3 * self.m
    }

    /// One episode with query label `label` (±1): N0 × T, tokens as columns.
    pub fn episode(&self, label: f64, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
        let (d, m) = (self.d, self.m);
        let protos: Vec<Vec<f64>> = (0..2).map(|_| (0..d).map(|_| StandardNormal.sample(rng)).collect()).collect();
        // Prototype 0 carries label +, prototype 1 label −; supports in random order.
        let order: [usize; 2] = if rng.random::<bool>() { [0, 1] } else { [1, 0] };
        let query = if label > 0.0 { 0 } else { 1 };
        let mut x = DMatrix::zeros(self.n0(), self.t());
        let items = [(order[0], order[0]), (order[1], order[1]), (query, 2)];
        for (item, &(proto, tag)) in items.iter().enumerate() {
            for k in 0..m {
                let col = item * m + k;
                for i in 0..d {
                    let n: f64 = StandardNormal.sample(rng);
                    x[(i, col)] = protos[proto][i] + self.noise * n;
                }
                x[(d + tag, col)] = 1.0;
            }
        }
        x
    }

    /// `n` episodes, half of each label (first half +1), seeded.
    pub fn dataset(&self, n: usize, seed: u64) -> (Vec<DMatrix<f64>>, Vec<f64>) {
        let mut rng = seeded_rng(seed);
        let y: Vec<f64> = (0..n).map(|i| if i < n / 2 { 1.0 } else { -1.0 }).collect();
        let x = y.iter().map(|&l| self.episode(l, &mut rng)).collect();
        (x, y)
    }
}

/// Sizes and optimiser settings of the gradient-descent network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GdConfig {
    /// Hidden width N of the value path.
    pub width: usize,
    /// Query/key dimension G.
    pub g: usize,
    /// Heads per layer H.
    pub heads: usize,
    /// Layers L.
    pub layers: usize,
    /// Adam steps.
    pub steps: usize,
    /// Batch size (fresh episodes every step).
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
}

/// The trained weights (row-major, f64), enough to rebuild the network anywhere.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GdWeights {
    /// Q^{ℓ,h}, G × N0 each, indexed [ℓ][h].
    pub q: Vec<Vec<Vec<f64>>>,
    /// K^{ℓ,h}.
    pub k: Vec<Vec<Vec<f64>>>,
    /// V⁰, N × N0.
    pub v0: Vec<f64>,
    /// V^{ℓ,h}, N × N.
    pub v: Vec<Vec<Vec<f64>>>,
    /// a, N.
    pub a: Vec<f64>,
    /// Training loss every 50 steps.
    pub loss_curve: Vec<(usize, f64)>,
}

struct Net {
    q: Vec<Vec<Var>>,
    k: Vec<Vec<Var>>,
    v0: Var,
    v: Vec<Vec<Var>>,
    a: Var,
}

fn var(rows: usize, cols: usize, scale: f64, rng: &mut ChaCha8Rng, dev: &Device) -> candle_core::Result<Var> {
    let data: Vec<f64> = (0..rows * cols).map(|_| { let z: f64 = StandardNormal.sample(rng); scale * z }).collect();
    Var::from_tensor(&Tensor::from_vec(data, (rows, cols), dev)?)
}

fn flat(v: &Var) -> candle_core::Result<Vec<f64>> {
    v.as_tensor().flatten_all()?.to_vec1::<f64>()
}

/// The batch tensor (B, T, N0) from episodes (tokens as rows).
fn batch_tensor(x: &[DMatrix<f64>], dev: &Device) -> candle_core::Result<Tensor> {
    let (n0, t) = (x[0].nrows(), x[0].ncols());
    let mut data = Vec::with_capacity(x.len() * n0 * t);
    for e in x {
        for tok in 0..t {
            for i in 0..n0 {
                data.push(e[(i, tok)]);
            }
        }
    }
    Tensor::from_vec(data, (x.len(), t, n0), dev)
}

impl Net {
    fn init(cfg: &GdConfig, n0: usize, seed: u64, dev: &Device) -> candle_core::Result<Self> {
        let mut rng = seeded_rng(seed);
        let qk = 1.0 / (n0 as f64).sqrt();
        let mut q = Vec::new();
        let mut k = Vec::new();
        let mut v = Vec::new();
        for _ in 0..cfg.layers {
            q.push((0..cfg.heads).map(|_| var(cfg.g, n0, qk, &mut rng, dev)).collect::<candle_core::Result<Vec<_>>>()?);
            k.push((0..cfg.heads).map(|_| var(cfg.g, n0, qk, &mut rng, dev)).collect::<candle_core::Result<Vec<_>>>()?);
            v.push((0..cfg.heads).map(|_| var(cfg.width, cfg.width, 1.0, &mut rng, dev)).collect::<candle_core::Result<Vec<_>>>()?);
        }
        let v0 = var(cfg.width, n0, 1.0, &mut rng, dev)?;
        let a = var(cfg.width, 1, 1.0, &mut rng, dev)?;
        Ok(Self { q, k, v0, v, a })
    }

    fn from_weights(w: &GdWeights, cfg: &GdConfig, n0: usize, dev: &Device) -> candle_core::Result<Self> {
        let m = |d: &[f64], r: usize, c: usize| Var::from_tensor(&Tensor::from_vec(d.to_vec(), (r, c), dev)?);
        let layer = |x: &Vec<Vec<Vec<f64>>>, r: usize, c: usize| {
            x.iter().map(|l| l.iter().map(|h| m(h, r, c)).collect::<candle_core::Result<Vec<_>>>()).collect::<candle_core::Result<Vec<_>>>()
        };
        Ok(Self {
            q: layer(&w.q, cfg.g, n0)?,
            k: layer(&w.k, cfg.g, n0)?,
            v0: m(&w.v0, cfg.width, n0)?,
            v: layer(&w.v, cfg.width, cfg.width)?,
            a: m(&w.a, cfg.width, 1)?,
        })
    }

    /// The parameters in a fixed order (per layer and head: q, k; then V⁰, the V^{ℓ,h}, a); none
    /// decays.
    fn params(&self) -> Vec<Param> {
        let p = |name: String, var: &Var| Param { name, var: var.clone(), decay: false };
        let mut out = Vec::new();
        for (l, (qs, ks)) in self.q.iter().zip(&self.k).enumerate() {
            for (h, (q, k)) in qs.iter().zip(ks).enumerate() {
                out.push(p(format!("q.{l}.{h}"), q));
                out.push(p(format!("k.{l}.{h}"), k));
            }
        }
        out.push(p("v0".into(), &self.v0));
        for (l, vs) in self.v.iter().enumerate() {
            out.extend(vs.iter().enumerate().map(|(h, v)| p(format!("v.{l}.{h}"), v)));
        }
        out.push(p("a".into(), &self.a));
        out
    }

    /// f on a batch (B, T, N0) → (B,); heads in `pruned` ((layer, head)) are dropped and the layer
    /// sum rescaled by (H − #dropped)^{−1/2} (spec §6 "Pruning").
    fn forward(&self, x: &Tensor, cfg: &GdConfig, pruned: &[(usize, usize)]) -> candle_core::Result<Tensor> {
        let n0 = x.dim(2)?;
        let g = (cfg.g as f64).sqrt();
        let mut hid = (x.broadcast_matmul(&self.v0.as_tensor().t()?)? / (n0 as f64).sqrt())?;
        for l in 0..cfg.layers {
            let kept: Vec<usize> = (0..cfg.heads).filter(|h| !pruned.contains(&(l, *h))).collect();
            if kept.is_empty() {
                return hid.zeros_like()?.sum(D::Minus1)?.sum(D::Minus1);
            }
            let mut acc: Option<Tensor> = None;
            for &h in &kept {
                let q = x.broadcast_matmul(&self.q[l][h].as_tensor().t()?)?;
                let k = x.broadcast_matmul(&self.k[l][h].as_tensor().t()?)?;
                let scores = (q.matmul(&k.t()?)? / g)?; // (B, T_query, T_key)
                let max = scores.max_keepdim(2)?.detach();
                let e = scores.broadcast_sub(&max)?.exp()?;
                let att = e.broadcast_div(&e.sum_keepdim(2)?)?;
                let vals = hid.broadcast_matmul(&self.v[l][h].as_tensor().t()?)?;
                let term = att.matmul(&vals)?;
                acc = Some(match acc {
                    Some(a) => (a + term)?,
                    None => term,
                });
            }
            let scale = ((kept.len() * cfg.width) as f64).sqrt();
            hid = match acc {
                Some(a) => (a / scale)?,
                None => hid,
            };
        }
        let pooled = hid.mean(1)?; // (B, N)
        (pooled.matmul(self.a.as_tensor())? / (cfg.width as f64).sqrt())?.squeeze(1)
    }

    fn weights(&self, loss_curve: Vec<(usize, f64)>) -> candle_core::Result<GdWeights> {
        let layer = |x: &Vec<Vec<Var>>| x.iter().map(|l| l.iter().map(flat).collect::<candle_core::Result<Vec<_>>>()).collect::<candle_core::Result<Vec<_>>>();
        Ok(GdWeights { q: layer(&self.q)?, k: layer(&self.k)?, v0: flat(&self.v0)?, v: layer(&self.v)?, a: flat(&self.a)?, loss_curve })
    }
}

/// The optimiser: Adam (AdamW without weight decay), β = (0.9, 0.999), ε = 1e-8.
pub const ADAM: AdamW = AdamW { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 };

/// Trains the network on fresh episodes (MSE loss, [`ADAM`], [`CosineDecay`] from `cfg.lr`),
/// initial weights from `seed` and episodes from `child_seed(seed, 1)`. A non-finite loss stops the
/// training (the weights of the last finite step are returned; the loss curve ends there).
pub fn train(task: &IclTask, cfg: &GdConfig, seed: u64) -> Result<GdWeights, TrainError> {
    let dev = Device::Cpu;
    let net = Net::init(cfg, task.n0(), seed, &dev)?;
    let params = net.params();
    let mut opt = AdamState::new(ADAM, &params)?;
    let sched = CosineDecay { lr: cfg.lr, total: cfg.steps };
    let mut rng = seeded_rng(attnlab_core::rng::child_seed(seed, 1));
    let mut curve = Vec::new();
    step_loop(
        &params,
        &mut opt,
        |i| sched.lr(i),
        cfg.steps,
        |_| {
            let labels: Vec<f64> = (0..cfg.batch).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
            let eps: Vec<DMatrix<f64>> = labels.iter().map(|&l| task.episode(l, &mut rng)).collect();
            let x = batch_tensor(&eps, &dev)?;
            let y = Tensor::from_vec(labels, cfg.batch, &dev)?;
            let f = net.forward(&x, cfg, &[])?;
            Ok((f - y)?.sqr()?.mean_all()?)
        },
        |step, loss| {
            if step % 50 == 0 || step + 1 == cfg.steps {
                curve.push((step, loss));
            }
        },
    )?;
    Ok(net.weights(curve)?)
}

/// The trained network's outputs f(x) on episodes `x` with heads `pruned` ((layer, head)) removed.
pub fn outputs(w: &GdWeights, task: &IclTask, cfg: &GdConfig, x: &[DMatrix<f64>], pruned: &[(usize, usize)]) -> Result<Vec<f64>, TrainError> {
    let dev = Device::Cpu;
    let net = Net::from_weights(w, cfg, task.n0(), &dev)?;
    Ok(net.forward(&batch_tensor(x, &dev)?, cfg, pruned)?.to_vec1::<f64>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> (IclTask, GdConfig) {
        (IclTask { d: 4, m: 2, noise: 0.5 }, GdConfig { width: 6, g: 3, heads: 2, layers: 2, steps: 60, batch: 16, lr: 5e-3 })
    }

    #[test]
    fn training_is_seeded_and_records_the_loss_every_50_steps() {
        let (task, cfg) = small();
        let a = train(&task, &cfg, 7).expect("train");
        let b = train(&task, &cfg, 7).expect("train");
        assert_eq!(a.a, b.a, "same seed, same weights");
        assert_eq!(a.loss_curve, b.loss_curve);
        assert_eq!(a.loss_curve.iter().map(|c| c.0).collect::<Vec<_>>(), [0, 50, 59]);
    }

    #[test]
    fn training_lowers_the_held_out_error() {
        let (task, cfg) = small();
        let (x, y) = task.dataset(200, 3);
        let mse = |steps: usize| {
            let w = train(&task, &GdConfig { steps, lr: 1e-2, ..cfg }, 5).expect("train");
            let f = outputs(&w, &task, &cfg, &x, &[]).expect("outputs");
            f.iter().zip(&y).map(|(f, y)| (f - y).powi(2)).sum::<f64>() / y.len() as f64
        };
        let (before, after) = (mse(1), mse(300));
        assert!(after < before, "held-out MSE {before} → {after}");
    }

    #[test]
    fn pruning_every_head_of_a_layer_gives_zero_output() {
        let (task, cfg) = small();
        let w = train(&task, &GdConfig { steps: 1, ..cfg }, 1).expect("train");
        let (x, _) = task.dataset(4, 2);
        let f = outputs(&w, &task, &cfg, &x, &[(1, 0), (1, 1)]).expect("outputs");
        assert_eq!(f, vec![0.0; 4]);
        assert!(outputs(&w, &task, &cfg, &x, &[]).expect("outputs").iter().any(|v| *v != 0.0));
    }
}
