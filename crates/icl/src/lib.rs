//! The in-context network of the paths image-free stand-in for Fig 3 (spec paths §5 "One-shot
//! image classification"): a synthetic 2-way 1-shot task at the Omniglot setup's sizes and the
//! gradient-descent network (learned input projection, L = 2 layers of H = 4 summed heads with
//! scale 1/√(H N), q/k computed from the raw input x at every layer, no residual, no MLP, mean
//! pooling, linear read-out), trained by the trainer's one loop ([`attnlab_trainer::train::step_loop`]) with
//! its one optimiser ([`AdamW`] with weight decay 0, i.e. Adam; β2 = 0.999, ε = 1e-8) under a
//! cosine decay to lr/10.
//!
//! Task (spec §5 "Image tokens", with synthetic images): each episode draws two new classes, each
//! a prototype "image" of `patches` patch vectors of `features` values, N(0, 1) entries. The
//! sequence holds the two support images (one per class, in random order, each tagged with its
//! label) and then the query image (tagged "unknown"), each image a noisy copy prototype + σ·n of its
//! class. Every patch goes through a LayerNorm without affine part (zero mean, unit variance over
//! its features), then gets added a standardised sinusoidal encoding of its patch position and a
//! frozen random label embedding E[tag] (3 × features, N(0, 1) entries from `embed_seed`, as
//! torch's Embedding initialises), the same for every patch of the image. So N0 = features and
//! T = 3 · patches (Omniglot: 192 and 48). The target is the query's label ±1.
//!
//! The network's output is linear in its values, so it is computed path by path (spec §1 "Path
//! decomposition"), f(x) = c Σ_π (ω_πᵀ x) · w_π with ω_π the pooled attention path and
//! w_π = V⁰ᵀ V^{1,h1}ᵀ ⋯ V^{L,hL}ᵀ a: the same function as token by token (tested), at a cost that does
//! not grow with the width N.

use attnlab_core::ConfigError;
use attnlab_core::rng::seeded_rng;
use attnlab_trainer::TrainError;
use attnlab_trainer::model::Param;
use attnlab_trainer::optim::{AdamState, AdamW, CosineDecay};
use attnlab_trainer::train::step_loop;
use candle_core::{DType, Device, Tensor, Var};
use nalgebra::DMatrix;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// The synthetic in-context task (checked by [`IclTask::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IclTask {
    /// Features per patch token, N0 (Omniglot: 3 channels × 8 × 8 = 192).
    pub features: usize,
    /// Patch tokens per image (Omniglot: a 32 × 32 image in 8 × 8 patches = 16).
    pub patches: usize,
    /// Within-class noise σ: an image is its class prototype + σ · N(0, 1) per entry.
    pub noise: f64,
    /// Seed of the frozen label embedding E.
    pub embed_seed: u64,
}

/// LayerNorm's ε (torch's default).
const LN_EPS: f64 = 1e-5;

impl IclTask {
    /// N0 = features.
    pub fn n0(&self) -> usize {
        self.features
    }
    /// T = 3 · patches (two support images and the query).
    pub fn t(&self) -> usize {
        3 * self.patches
    }

    /// Checks the sizes and the noise, naming the bad field.
    pub fn check(&self) -> Result<(), TrainError> {
        if self.features < 2 {
            return Err(ConfigError::new(
                "task.features",
                self.features,
                "must be ≥ 2 (a LayerNorm over one value is 0)",
            )
            .into());
        }
        if self.patches == 0 {
            return Err(ConfigError::new("task.patches", self.patches, "must be ≥ 1").into());
        }
        if !(self.noise.is_finite() && self.noise >= 0.0 && self.noise <= 1e6) {
            return Err(ConfigError::new("task.noise", self.noise, "must be finite and in [0, 1e6]").into());
        }
        Ok(())
    }

    /// The fixed part added to every patch: row `tag * patches + k` is E[tag] + PE[k] (tag 0 = +,
    /// 1 = −, 2 = unknown). PE is the sinusoidal encoding (sin on even, cos on odd features, base
    /// 10 000), standardised over all its entries to mean 0 and variance 1.
    pub fn additive(&self) -> DMatrix<f64> {
        let (f, np) = (self.features, self.patches);
        let mut rng = seeded_rng(self.embed_seed);
        let e: DMatrix<f64> = DMatrix::from_fn(3, f, |_, _| StandardNormal.sample(&mut rng));
        let mut pe = DMatrix::from_fn(np, f, |k, i| {
            let angle = k as f64 / 10_000f64.powf((i - i % 2) as f64 / f as f64);
            if i % 2 == 0 { angle.sin() } else { angle.cos() }
        });
        let mean = pe.mean();
        let sd = (pe.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / pe.len() as f64).sqrt();
        pe.apply(|v| *v = if sd > 0.0 { (*v - mean) / sd } else { 0.0 });
        DMatrix::from_fn(3 * np, f, |r, i| e[(r / np, i)] + pe[(r % np, i)])
    }

    /// One episode with query label `label` (±1): N0 × T, tokens as columns; `add` is
    /// [`IclTask::additive`].
    pub fn episode(&self, label: f64, add: &DMatrix<f64>, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
        let (f, np) = (self.features, self.patches);
        let protos: Vec<DMatrix<f64>> =
            (0..2).map(|_| DMatrix::from_fn(f, np, |_, _| -> f64 { StandardNormal.sample(rng) })).collect();
        // Prototype 0 carries label +, prototype 1 label −; supports in random order.
        let order: [usize; 2] = if rng.random::<bool>() { [0, 1] } else { [1, 0] };
        let query = if label > 0.0 { 0 } else { 1 };
        let mut x = DMatrix::zeros(f, self.t());
        let items = [(order[0], order[0]), (order[1], order[1]), (query, 2)];
        for (item, &(proto, tag)) in items.iter().enumerate() {
            for k in 0..np {
                let col = item * np + k;
                let mut patch: Vec<f64> = (0..f)
                    .map(|i| {
                        let n: f64 = StandardNormal.sample(rng);
                        protos[proto][(i, k)] + self.noise * n
                    })
                    .collect();
                let mean = patch.iter().sum::<f64>() / f as f64;
                let var = patch.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / f as f64;
                let inv = 1.0 / (var + LN_EPS).sqrt();
                for (i, v) in patch.iter_mut().enumerate() {
                    *v = (*v - mean) * inv + add[(tag * np + k, i)];
                }
                x.column_mut(col).copy_from_slice(&patch);
            }
        }
        x
    }

    /// `n` episodes, half of each label (first half +1), seeded.
    pub fn dataset(&self, n: usize, seed: u64) -> (Vec<DMatrix<f64>>, Vec<f64>) {
        let mut rng = seeded_rng(seed);
        let add = self.additive();
        let y: Vec<f64> = (0..n).map(|i| if i < n / 2 { 1.0 } else { -1.0 }).collect();
        let x = y.iter().map(|&l| self.episode(l, &add, &mut rng)).collect();
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
    let data: Vec<f64> = (0..rows * cols)
        .map(|_| {
            let z: f64 = StandardNormal.sample(rng);
            scale * z
        })
        .collect();
    Var::from_tensor(&Tensor::from_vec(data, (rows, cols), dev)?.to_dtype(DTYPE)?)
}

/// The network computes in f32 (its weights are kept and returned as f64); f64 would double a
/// step's cost, which at the Omniglot sizes is the experiment's largest.
const DTYPE: DType = DType::F32;

fn flat(v: &Var) -> candle_core::Result<Vec<f64>> {
    v.as_tensor().flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()
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
    Tensor::from_vec(data, (x.len(), t, n0), dev)?.to_dtype(DTYPE)
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
            v.push(
                (0..cfg.heads)
                    .map(|_| var(cfg.width, cfg.width, 1.0, &mut rng, dev))
                    .collect::<candle_core::Result<Vec<_>>>()?,
            );
        }
        let v0 = var(cfg.width, n0, 1.0, &mut rng, dev)?;
        let a = var(cfg.width, 1, 1.0, &mut rng, dev)?;
        Ok(Self { q, k, v0, v, a })
    }

    fn from_weights(w: &GdWeights, cfg: &GdConfig, n0: usize, dev: &Device) -> candle_core::Result<Self> {
        let m = |d: &[f64], r: usize, c: usize| {
            Var::from_tensor(&Tensor::from_vec(d.to_vec(), (r, c), dev)?.to_dtype(DTYPE)?)
        };
        let layer = |x: &Vec<Vec<Vec<f64>>>, r: usize, c: usize| {
            x.iter()
                .map(|l| l.iter().map(|h| m(h, r, c)).collect::<candle_core::Result<Vec<_>>>())
                .collect::<candle_core::Result<Vec<_>>>()
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

    /// f on a batch (B, T, N0) → (B,), path by path: f = c Σ_π (ω_πᵀ x) · w_π with ω_π the mean
    /// over queries of the top head's attention carried down the path's heads and
    /// w_π = V⁰ᵀ V^{1,h1}ᵀ ⋯ V^{L,hL}ᵀ a; c = 1/√N0 · Π_ℓ 1/√(H_ℓ N) · 1/√N. Heads in `pruned`
    /// ((layer, head)) are dropped and their layer's sum rescaled by (H − #dropped)^{−1/2} (spec §6
    /// "Pruning"); a layer with no head left gives f = 0.
    fn forward(&self, x: &Tensor, cfg: &GdConfig, pruned: &[(usize, usize)]) -> candle_core::Result<Tensor> {
        let (b, _, n0) = x.dims3()?;
        let kept: Vec<Vec<usize>> =
            (0..cfg.layers).map(|l| (0..cfg.heads).filter(|h| !pruned.contains(&(l, *h))).collect()).collect();
        if kept.iter().any(Vec::is_empty) {
            return Tensor::zeros(b, x.dtype(), x.device());
        }
        let g = (cfg.g as f64).sqrt();
        // Row-softmax attention (B, T_query, T_key) of every kept head.
        // q and k of every kept head, each one 2-D matmul on the (B·T, N0) tokens (a `narrow` of a
        // fused projection would cost a full-size zero tensor per head in the backward pass).
        let t = x.dim(1)?;
        let x2 = x.reshape((b * t, n0))?;
        let mut att: Vec<Vec<Option<Tensor>>> = vec![vec![None; cfg.heads]; cfg.layers];
        for (l, hs) in kept.iter().enumerate() {
            for &h in hs {
                let q = x2.matmul(&self.q[l][h].as_tensor().t()?)?.reshape((b, t, cfg.g))?;
                let k = x2.matmul(&self.k[l][h].as_tensor().t()?)?.reshape((b, t, cfg.g))?;
                let scores = (q.matmul(&k.t()?)? / g)?;
                let max = scores.max_keepdim(2)?.detach();
                let e = scores.broadcast_sub(&max)?.exp()?;
                att[l][h] = Some(e.broadcast_div(&e.sum_keepdim(2)?)?);
            }
        }
        let mut c = 1.0 / ((n0 * cfg.width) as f64).sqrt();
        for hs in &kept {
            c /= ((hs.len() * cfg.width) as f64).sqrt();
        }
        // Walk the paths top-down: (ω (B, 1, T), w (N, 1)) after layers L..ℓ.
        let top = cfg.layers - 1;
        let mut frontier: Vec<(Tensor, Tensor)> = Vec::new();
        for &h in &kept[top] {
            let a_ = att[top][h].as_ref().expect("kept head has attention");
            let omega = a_.mean_keepdim(1)?;
            let w = self.v[top][h].as_tensor().t()?.matmul(self.a.as_tensor())?;
            frontier.push((omega, w));
        }
        for l in (0..top).rev() {
            let mut next = Vec::with_capacity(frontier.len() * kept[l].len());
            for (omega, w) in &frontier {
                for &h in &kept[l] {
                    let a_ = att[l][h].as_ref().expect("kept head has attention");
                    next.push((omega.matmul(a_)?, self.v[l][h].as_tensor().t()?.matmul(w)?));
                }
            }
            frontier = next;
        }
        let mut f: Option<Tensor> = None;
        for (omega, w) in &frontier {
            let z = omega.matmul(x)?.squeeze(1)?; // (B, N0)
            let w0 = self.v0.as_tensor().t()?.matmul(w)?; // (N0, 1)
            let term = z.matmul(&w0)?.squeeze(1)?;
            f = Some(match f {
                Some(acc) => (acc + term)?,
                None => term,
            });
        }
        f.expect("at least one path") * c
    }

    fn weights(&self, loss_curve: Vec<(usize, f64)>) -> candle_core::Result<GdWeights> {
        let layer = |x: &Vec<Vec<Var>>| {
            x.iter()
                .map(|l| l.iter().map(flat).collect::<candle_core::Result<Vec<_>>>())
                .collect::<candle_core::Result<Vec<_>>>()
        };
        Ok(GdWeights {
            q: layer(&self.q)?,
            k: layer(&self.k)?,
            v0: flat(&self.v0)?,
            v: layer(&self.v)?,
            a: flat(&self.a)?,
            loss_curve,
        })
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
    task.check()?;
    let add = task.additive();
    let mut rng = seeded_rng(attnlab_core::rng::child_seed(seed, 1));
    let mut curve = Vec::new();
    step_loop(
        &params,
        &mut opt,
        |i| sched.lr(i),
        cfg.steps,
        |_| {
            let labels: Vec<f64> = (0..cfg.batch).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
            let eps: Vec<DMatrix<f64>> = labels.iter().map(|&l| task.episode(l, &add, &mut rng)).collect();
            let x = batch_tensor(&eps, &dev)?;
            let y = Tensor::from_vec(labels, cfg.batch, &dev)?.to_dtype(DTYPE)?;
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
pub fn outputs(
    w: &GdWeights,
    task: &IclTask,
    cfg: &GdConfig,
    x: &[DMatrix<f64>],
    pruned: &[(usize, usize)],
) -> Result<Vec<f64>, TrainError> {
    let dev = Device::Cpu;
    let net = Net::from_weights(w, cfg, task.n0(), &dev)?;
    Ok(net.forward(&batch_tensor(x, &dev)?, cfg, pruned)?.to_dtype(DType::F64)?.to_vec1::<f64>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DVectorView;

    fn small() -> (IclTask, GdConfig) {
        (
            IclTask { features: 6, patches: 2, noise: 0.5, embed_seed: 9 },
            GdConfig { width: 6, g: 3, heads: 2, layers: 2, steps: 60, batch: 16, lr: 5e-3 },
        )
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

    /// The network token by token in nalgebra: hid⁰ = x V⁰ᵀ/√N0, hid^ℓ = Σ_h Ω^{ℓ,h} hid^{ℓ−1}
    /// V^{ℓ,h}ᵀ/√(H N) (rows are tokens, Ω row-softmax over keys), f = mean_t hid^L · a/√N.
    fn token_by_token(w: &GdWeights, cfg: &GdConfig, x: &DMatrix<f64>, pruned: &[(usize, usize)]) -> f64 {
        let (n0, n) = (x.nrows(), cfg.width);
        let xt = x.transpose(); // T × N0
        let m = |d: &[f64], r: usize, c: usize| DMatrix::from_row_slice(r, c, d);
        let mut hid = &xt * m(&w.v0, n, n0).transpose() / (n0 as f64).sqrt();
        for l in 0..cfg.layers {
            let mut acc = DMatrix::zeros(hid.nrows(), n);
            let kept: Vec<usize> = (0..cfg.heads).filter(|h| !pruned.contains(&(l, *h))).collect();
            for &h in &kept {
                let q = &xt * m(&w.q[l][h], cfg.g, n0).transpose();
                let k = &xt * m(&w.k[l][h], cfg.g, n0).transpose();
                let mut s = q * k.transpose() / (cfg.g as f64).sqrt();
                for mut row in s.row_iter_mut() {
                    let mx = row.max();
                    row.apply(|v| *v = (*v - mx).exp());
                    let z = row.sum();
                    row /= z;
                }
                acc += s * &hid * m(&w.v[l][h], n, n).transpose();
            }
            hid = acc / ((kept.len() * n) as f64).sqrt();
        }
        let pooled = hid.row_mean();
        pooled.dot(&DVectorView::from_slice(&w.a, n).transpose()) / (n as f64).sqrt()
    }

    #[test]
    fn the_path_by_path_forward_is_the_token_by_token_network() {
        let (task, cfg) = small();
        let w = train(&task, &GdConfig { steps: 5, ..cfg }, 4).expect("train");
        let (x, _) = task.dataset(3, 8);
        for pruned in [&[][..], &[(0, 1)], &[(1, 0)], &[(0, 0), (1, 1)]] {
            let f = outputs(&w, &task, &cfg, &x, pruned).expect("outputs");
            for (e, fe) in x.iter().zip(&f) {
                let r = token_by_token(&w, &cfg, e, pruned);
                assert!(
                    (r - fe).abs() <= 1e-4 * (1.0 + r.abs()),
                    "pruned {pruned:?}: path form (f32) {fe} vs token form (f64) {r}"
                );
            }
        }
    }

    #[test]
    fn patches_are_layer_normed_before_the_fixed_part_is_added() {
        let (task, _) = small();
        let add = task.additive();
        let (x, _) = task.dataset(2, 1);
        for e in &x {
            for col in 0..task.t() {
                // Supports carry tag 0 or 1 (their order is random), the query tag 2.
                let tags: &[usize] = if col >= 2 * task.patches { &[2] } else { &[0, 1] };
                let found = tags.iter().any(|&tag| {
                    let k = col % task.patches;
                    let p: Vec<f64> =
                        (0..task.features).map(|i| e[(i, col)] - add[(tag * task.patches + k, i)]).collect();
                    let mean = p.iter().sum::<f64>() / p.len() as f64;
                    let var = p.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / p.len() as f64;
                    mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-3
                });
                assert!(found, "column {col} is not a normed patch plus E[tag] + PE[k]");
            }
        }
    }

    #[test]
    fn bad_task_fields_are_named() {
        let (task, cfg) = small();
        for (bad, field) in [
            (IclTask { noise: f64::NAN, ..task }, "task.noise"),
            (IclTask { noise: 1e300, ..task }, "task.noise"),
            (IclTask { features: 1, ..task }, "task.features"),
            (IclTask { patches: 0, ..task }, "task.patches"),
        ] {
            let e = train(&bad, &cfg, 1).expect_err("bad task").to_string();
            assert!(e.contains(field), "{e}");
        }
    }
}
