//! The reference's non-augmented model (spec icar §2b, Fig 7) in f64 with a hand-written backward
//! pass, trained as `non_augmented.py` `train()` does (spec §2e) on Haar O(d) sequences.
//!
//! Token x_t = (s_t, s_t) ∈ R^{2d} (E = 2d), H heads of width E, Q, K, V = Linear(E, H·E) with
//! bias, learned positional embeddings p_t = Embedding(100, E) (N(0, 1) init), positions 0..n−1.
//! Head h: A_h[q,k] = [(Q_h x_q + b)·(K_h x_k + b)/√E] × softmax_{k≤q}[(Q_h p_q + b)·(K_h p_k + b)/√E]
//! (the same Q_h, K_h and biases on tokens and on PEs; masked entries are 0). Output
//! Σ_h Σ_{k≤q} A_h[q,k](V_h x_k + b) → fc_out (E×E, bias) → LayerNorm(E) → no residual →
//! Linear(E, d). MSE against s_{t+1}.
//!
//! Speed: the positional softmax Π_h does not depend on the batch and is computed once per step;
//! with z = (s, 1) the token score is z_qᵀ M_h z_k with M_h = Q̃_hᵀK̃_h/√E (Q̃_h: the two halves of
//! Q_h summed, bias as last column), so a (head, query, key) triple costs O(d).

use attnlab_core::config::rules;
use attnlab_core::seeded_rng;
use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::icar::{CurvePoint, Schedule, fit};

/// Settings of `non_augmented.py` `train()` (spec §2b, §2e).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NonAugConfig {
    /// Dimension d (1..=8).
    pub d: usize,
    /// Transitions per sequence n (≤ 100, the PE table size).
    pub n: usize,
    /// Heads H (reference 64).
    pub heads: usize,
    /// Training sequences (2^14).
    pub train_seqs: usize,
    /// Test sequences (2^10).
    pub test_seqs: usize,
    /// Minibatch size (reference 1024).
    pub batch: usize,
    /// Epochs (reference 200).
    pub epochs: usize,
    /// Adam learning rate (1e-2).
    pub lr: f64,
    /// Seed of weights (child 0), data (child 1), shuffling (child 2).
    pub seed: u64,
}

impl NonAugConfig {
    /// Checks 1 ≤ d ≤ 8, 2 ≤ n ≤ 100, heads ≥ 1, 1 ≤ batch ≤ train_seqs, epochs ≥ 1, lr > 0.
    pub fn new(d: usize, n: usize, heads: usize, train_seqs: usize, test_seqs: usize, batch: usize, epochs: usize, lr: f64, seed: u64) -> Result<Self, TrainError> {
        let d = rules::at_least("d", d, 1)?;
        if d > 8 {
            return Err(attnlab_core::ConfigError::new("d", d, "must be at most 8").into());
        }
        let n = rules::at_least("n", n, 2)?;
        if n > 100 {
            return Err(attnlab_core::ConfigError::new("n", n, "must be at most 100 (the PE table)").into());
        }
        let train_seqs = rules::at_least("train_seqs", train_seqs, 1)?;
        let batch = rules::at_least("batch", batch, 1)?;
        if batch > train_seqs {
            return Err(attnlab_core::ConfigError::new("batch", batch, format!("must be at most train_seqs = {train_seqs}")).into());
        }
        Ok(Self {
            d,
            n,
            heads: rules::at_least("heads", heads, 1)?,
            train_seqs,
            test_seqs: rules::at_least("test_seqs", test_seqs, 1)?,
            batch,
            epochs: rules::at_least("epochs", epochs, 1)?,
            lr: rules::positive("lr", lr)?,
            seed,
        })
    }
    /// The reference defaults: d 5, n 50, H 64, 2^14 / 2^10 sequences, batch 1024, 200 epochs, lr 1e-2.
    pub fn reference(seed: u64) -> Self {
        Self { d: 5, n: 50, heads: 64, train_seqs: 1 << 14, test_seqs: 1 << 10, batch: 1024, epochs: 200, lr: 1e-2, seed }
    }
    /// Steps per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.train_seqs / self.batch
    }
}

/// Flat parameter layout: Q, K, V (each H·E×E), bq, bk, bv (H·E), PE (100×E), W_o (E×E), b_o, γ, β
/// (E), W_f (d×E), b_f (d).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NaLayout {
    /// d.
    pub d: usize,
    /// H.
    pub h: usize,
}

impl NaLayout {
    fn e(&self) -> usize {
        2 * self.d
    }
    /// Offsets of [Q, K, V, bq, bk, bv, PE, Wo, bo, γ, β, Wf, bf, end].
    pub fn offsets(&self) -> [usize; 14] {
        let (e, h, d) = (self.e(), self.h, self.d);
        let sizes = [h * e * e, h * e * e, h * e * e, h * e, h * e, h * e, 100 * e, e * e, e, e, e, d * e, d];
        let mut o = [0; 14];
        for i in 0..13 {
            o[i + 1] = o[i] + sizes[i];
        }
        o
    }
    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.offsets()[13]
    }
    /// Always false.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// PyTorch default init (Linear U(±1/√E), Embedding N(0, 1), γ = 1, β = 0).
pub fn init_params(l: NaLayout, seed: u64) -> Vec<f64> {
    let mut rng = seeded_rng(seed);
    let o = l.offsets();
    let bound = 1.0 / (l.e() as f64).sqrt();
    let mut p: Vec<f64> = (0..l.len()).map(|_| bound * (2.0 * rng.random::<f64>() - 1.0)).collect();
    for v in &mut p[o[6]..o[7]] {
        *v = rng.sample(StandardNormal);
    }
    p[o[9]..o[10]].iter_mut().for_each(|v| *v = 1.0);
    p[o[10]..o[11]].iter_mut().for_each(|v| *v = 0.0);
    p
}

/// Batch-independent quantities of one step: the positional softmax Π_h (H×n×n, causal), and per
/// head M_h (Z×Z) and Ṽ_h (E×Z) with Z = d+1.
struct Shared<const D: usize, const E: usize, const Z: usize> {
    pi: Vec<f64>,
    m: Vec<[[f64; Z]; Z]>,
    vt: Vec<[[f64; Z]; E]>,
    pq: Vec<[f64; E]>,
    pk: Vec<[f64; E]>,
}

/// Reduced per-head matrix [W[:, :d] + W[:, d:], b] (E×Z) of a Linear(E, H·E) block.
fn reduced<const D: usize, const E: usize, const Z: usize>(p: &[f64], w: usize, b: usize, h: usize) -> [[f64; Z]; E] {
    let mut r = [[0.0; Z]; E];
    for i in 0..E {
        let row = w + (h * E + i) * E;
        for j in 0..D {
            r[i][j] = p[row + j] + p[row + D + j];
        }
        r[i][D] = p[b + h * E + i];
    }
    r
}

fn shared<const D: usize, const E: usize, const Z: usize>(l: NaLayout, p: &[f64], n: usize) -> Shared<D, E, Z> {
    let o = l.offsets();
    let rs = 1.0 / (E as f64).sqrt();
    let mut pi = vec![0.0; l.h * n * n];
    let mut m = Vec::with_capacity(l.h);
    let mut vt = Vec::with_capacity(l.h);
    let mut pq = vec![[0.0; E]; l.h * n];
    let mut pk = vec![[0.0; E]; l.h * n];
    for h in 0..l.h {
        let qt = reduced::<D, E, Z>(p, o[0], o[3], h);
        let kt = reduced::<D, E, Z>(p, o[1], o[4], h);
        let mut mh = [[0.0; Z]; Z];
        for c in 0..Z {
            for b in 0..Z {
                mh[c][b] = rs * (0..E).map(|e| qt[e][c] * kt[e][b]).sum::<f64>();
            }
        }
        m.push(mh);
        vt.push(reduced::<D, E, Z>(p, o[2], o[5], h));
        for t in 0..n {
            let pe = &p[o[6] + t * E..o[6] + (t + 1) * E];
            for i in 0..E {
                let (wq, wk) = (o[0] + (h * E + i) * E, o[1] + (h * E + i) * E);
                pq[h * n + t][i] = p[o[3] + h * E + i] + (0..E).map(|j| p[wq + j] * pe[j]).sum::<f64>();
                pk[h * n + t][i] = p[o[4] + h * E + i] + (0..E).map(|j| p[wk + j] * pe[j]).sum::<f64>();
            }
        }
        for q in 0..n {
            let row = &mut pi[(h * n + q) * n..(h * n + q) * n + n];
            let mut mx = f64::NEG_INFINITY;
            for k in 0..=q {
                row[k] = rs * (0..E).map(|i| pq[h * n + q][i] * pk[h * n + k][i]).sum::<f64>();
                mx = mx.max(row[k]);
            }
            let mut z = 0.0;
            for k in 0..=q {
                row[k] = (row[k] - mx).exp();
                z += row[k];
            }
            for k in 0..=q {
                row[k] /= z;
            }
        }
    }
    Shared { pi, m, vt, pq, pk }
}

/// Per-thread gradient accumulators of the batch-dependent part.
struct Acc<const E: usize, const Z: usize> {
    dpi: Vec<f64>,
    dm: Vec<[[f64; Z]; Z]>,
    dvt: Vec<[[f64; Z]; E]>,
    dwo: [[f64; E]; E],
    dbo: [f64; E],
    dga: [f64; E],
    dbe: [f64; E],
    dwf: Vec<[f64; E]>,
    dbf: Vec<f64>,
}

/// Forward (and backward when `acc` is given, gradient of `scale`·Σ squared errors) of one sequence.
fn seq_pass<const D: usize, const E: usize, const Z: usize>(l: NaLayout, p: &[f64], sh: &Shared<D, E, Z>, s: &[f64], n: usize, mut acc: Option<(&mut Acc<E, Z>, f64)>) -> f64 {
    let o = l.offsets();
    let hn = l.h;
    let zs: Vec<[f64; Z]> = (0..n)
        .map(|t| {
            let mut z = [1.0; Z];
            z[..D].copy_from_slice(&s[t * D..t * D + D]);
            z
        })
        .collect();
    let mut y = vec![[0.0; Z]; hn];
    let mut sc = vec![0.0; hn * n];
    let mut loss = 0.0;
    for q in 0..n {
        let zq = zs[q];
        let mut att = [0.0; E];
        for h in 0..hn {
            let mh = &sh.m[h];
            let mut u = [0.0; Z];
            for b in 0..Z {
                let mut a = 0.0;
                for c in 0..Z {
                    a += mh[c][b] * zq[c];
                }
                u[b] = a;
            }
            let pirow = &sh.pi[(h * n + q) * n..(h * n + q) * n + n];
            let mut yy = [0.0; Z];
            for k in 0..=q {
                let zk = &zs[k];
                let mut sck = 0.0;
                for b in 0..Z {
                    sck += u[b] * zk[b];
                }
                sc[h * n + k] = sck;
                let a = pirow[k] * sck;
                for b in 0..Z {
                    yy[b] += a * zk[b];
                }
            }
            y[h] = yy;
            let v = &sh.vt[h];
            for i in 0..E {
                let mut a = 0.0;
                for b in 0..Z {
                    a += v[i][b] * yy[b];
                }
                att[i] += a;
            }
        }
        let mut f = [0.0; E];
        for i in 0..E {
            f[i] = p[o[8] + i] + (0..E).map(|j| p[o[7] + i * E + j] * att[j]).sum::<f64>();
        }
        let mu = f.iter().sum::<f64>() / E as f64;
        let var = f.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / E as f64;
        let sig = (var + 1e-5).sqrt();
        let mut xh = [0.0; E];
        let mut ln = [0.0; E];
        for i in 0..E {
            xh[i] = (f[i] - mu) / sig;
            ln[i] = p[o[9] + i] * xh[i] + p[o[10] + i];
        }
        let mut err = [0.0; D];
        for i in 0..D {
            let out = p[o[12] + i] + (0..E).map(|j| p[o[11] + i * E + j] * ln[j]).sum::<f64>();
            err[i] = out - s[(q + 1) * D + i];
            loss += err[i] * err[i];
        }
        let Some((a, scale)) = acc.as_mut() else { continue };
        let mut gl = [0.0; E];
        for i in 0..D {
            let gy = 2.0 * err[i] * *scale;
            a.dbf[i] += gy;
            for j in 0..E {
                a.dwf[i][j] += gy * ln[j];
                gl[j] += gy * p[o[11] + i * E + j];
            }
        }
        let (mut m1, mut m2) = (0.0, 0.0);
        let mut gx = [0.0; E];
        for i in 0..E {
            a.dga[i] += gl[i] * xh[i];
            a.dbe[i] += gl[i];
            gx[i] = gl[i] * p[o[9] + i];
            m1 += gx[i];
            m2 += gx[i] * xh[i];
        }
        m1 /= E as f64;
        m2 /= E as f64;
        let mut gatt = [0.0; E];
        for i in 0..E {
            let gf = (gx[i] - m1 - xh[i] * m2) / sig;
            a.dbo[i] += gf;
            for j in 0..E {
                a.dwo[i][j] += gf * att[j];
                gatt[j] += gf * p[o[7] + i * E + j];
            }
        }
        for h in 0..hn {
            let v = &sh.vt[h];
            let mut gy = [0.0; Z];
            for i in 0..E {
                for b in 0..Z {
                    gy[b] += v[i][b] * gatt[i];
                    a.dvt[h][i][b] += gatt[i] * y[h][b];
                }
            }
            let pirow = &sh.pi[(h * n + q) * n..(h * n + q) * n + n];
            let dpirow = &mut a.dpi[(h * n + q) * n..(h * n + q) * n + n];
            let mut gu = [0.0; Z];
            for k in 0..=q {
                let zk = &zs[k];
                let mut ga = 0.0;
                for b in 0..Z {
                    ga += gy[b] * zk[b];
                }
                dpirow[k] += ga * sc[h * n + k];
                let gs = ga * pirow[k];
                for b in 0..Z {
                    gu[b] += gs * zk[b];
                }
            }
            for c in 0..Z {
                for b in 0..Z {
                    a.dm[h][c][b] += zq[c] * gu[b];
                }
            }
        }
    }
    loss
}

fn loss_grad_fixed<const D: usize, const E: usize, const Z: usize>(l: NaLayout, p: &[f64], seqs: &[&[f64]], n: usize, with_grad: bool) -> (f64, Vec<f64>) {
    let sh = shared::<D, E, Z>(l, p, n);
    let denom = (seqs.len() * n * D) as f64;
    let hn = l.h;
    let chunk = seqs.len().div_ceil(rayon::current_num_threads().max(1) * 2).max(1);
    let new_acc = || Acc::<E, Z> {
        dpi: vec![0.0; hn * n * n],
        dm: vec![[[0.0; Z]; Z]; hn],
        dvt: vec![[[0.0; Z]; E]; hn],
        dwo: [[0.0; E]; E],
        dbo: [0.0; E],
        dga: [0.0; E],
        dbe: [0.0; E],
        dwf: vec![[0.0; E]; D],
        dbf: vec![0.0; D],
    };
    let parts: Vec<(f64, Option<Acc<E, Z>>)> = seqs
        .par_chunks(chunk)
        .map(|ch| {
            let mut acc = with_grad.then(new_acc);
            let mut loss = 0.0;
            for s in ch {
                loss += seq_pass(l, p, &sh, s, n, acc.as_mut().map(|a| (a, 1.0 / denom)));
            }
            (loss, acc)
        })
        .collect();
    let loss = parts.iter().map(|x| x.0).sum::<f64>() / denom;
    if !with_grad {
        return (loss, Vec::new());
    }
    let mut a = new_acc();
    for (_, pa) in parts.iter() {
        let Some(pa) = pa else { continue };
        a.dpi.iter_mut().zip(&pa.dpi).for_each(|(x, y)| *x += y);
        for h in 0..hn {
            for c in 0..Z {
                for b in 0..Z {
                    a.dm[h][c][b] += pa.dm[h][c][b];
                }
            }
            for i in 0..E {
                for b in 0..Z {
                    a.dvt[h][i][b] += pa.dvt[h][i][b];
                }
            }
        }
        for i in 0..E {
            for j in 0..E {
                a.dwo[i][j] += pa.dwo[i][j];
            }
            a.dbo[i] += pa.dbo[i];
            a.dga[i] += pa.dga[i];
            a.dbe[i] += pa.dbe[i];
        }
        for i in 0..D {
            for j in 0..E {
                a.dwf[i][j] += pa.dwf[i][j];
            }
            a.dbf[i] += pa.dbf[i];
        }
    }
    let o = l.offsets();
    let mut g = vec![0.0; l.len()];
    for i in 0..E {
        for j in 0..E {
            g[o[7] + i * E + j] = a.dwo[i][j];
        }
        g[o[8] + i] = a.dbo[i];
        g[o[9] + i] = a.dga[i];
        g[o[10] + i] = a.dbe[i];
    }
    for i in 0..D {
        for j in 0..E {
            g[o[11] + i * E + j] = a.dwf[i][j];
        }
        g[o[12] + i] = a.dbf[i];
    }
    let rs = 1.0 / (E as f64).sqrt();
    for h in 0..hn {
        let qt = reduced::<D, E, Z>(p, o[0], o[3], h);
        let kt = reduced::<D, E, Z>(p, o[1], o[4], h);
        // M = Q̃ᵀK̃/√E: dQ̃ = K̃ dMᵀ/√E, dK̃ = Q̃ dM/√E; reduced → full (both halves, bias).
        for e in 0..E {
            let mut dq = [0.0; Z];
            let mut dk = [0.0; Z];
            for c in 0..Z {
                for b in 0..Z {
                    dq[c] += rs * kt[e][b] * a.dm[h][c][b];
                    dk[b] += rs * qt[e][c] * a.dm[h][c][b];
                }
            }
            let row = (h * E + e) * E;
            for j in 0..D {
                g[o[0] + row + j] += dq[j];
                g[o[0] + row + D + j] += dq[j];
                g[o[1] + row + j] += dk[j];
                g[o[1] + row + D + j] += dk[j];
                g[o[2] + row + j] += a.dvt[h][e][j];
                g[o[2] + row + D + j] += a.dvt[h][e][j];
            }
            g[o[3] + h * E + e] += dq[D];
            g[o[4] + h * E + e] += dk[D];
            g[o[5] + h * E + e] += a.dvt[h][e][D];
        }
        // Softmax backward and the PE path: S = pq·pk/√E, pq = Q_h p + bq, pk = K_h p + bk.
        for q in 0..n {
            let pirow = &sh.pi[(h * n + q) * n..(h * n + q) * n + n];
            let drow = &a.dpi[(h * n + q) * n..(h * n + q) * n + n];
            let dot: f64 = (0..=q).map(|k| pirow[k] * drow[k]).sum();
            for k in 0..=q {
                let ds = pirow[k] * (drow[k] - dot) * rs;
                if ds == 0.0 {
                    continue;
                }
                let (pqv, pkv) = (sh.pq[h * n + q], sh.pk[h * n + k]);
                for i in 0..E {
                    let dpq = ds * pkv[i];
                    let dpk = ds * pqv[i];
                    g[o[3] + h * E + i] += dpq;
                    g[o[4] + h * E + i] += dpk;
                    let (wq, wk) = (o[0] + (h * E + i) * E, o[1] + (h * E + i) * E);
                    for j in 0..E {
                        let (peq, pek) = (p[o[6] + q * E + j], p[o[6] + k * E + j]);
                        g[wq + j] += dpq * peq;
                        g[o[6] + q * E + j] += dpq * p[wq + j];
                        g[wk + j] += dpk * pek;
                        g[o[6] + k * E + j] += dpk * p[wk + j];
                    }
                }
            }
        }
    }
    (loss, g)
}

/// MSE (over sequences, positions, coordinates) and, with `with_grad`, its gradient.
pub fn loss_grad(l: NaLayout, p: &[f64], seqs: &[&[f64]], n: usize, with_grad: bool) -> (f64, Vec<f64>) {
    match l.d {
        1 => loss_grad_fixed::<1, 2, 2>(l, p, seqs, n, with_grad),
        2 => loss_grad_fixed::<2, 4, 3>(l, p, seqs, n, with_grad),
        3 => loss_grad_fixed::<3, 6, 4>(l, p, seqs, n, with_grad),
        4 => loss_grad_fixed::<4, 8, 5>(l, p, seqs, n, with_grad),
        5 => loss_grad_fixed::<5, 10, 6>(l, p, seqs, n, with_grad),
        6 => loss_grad_fixed::<6, 12, 7>(l, p, seqs, n, with_grad),
        7 => loss_grad_fixed::<7, 14, 8>(l, p, seqs, n, with_grad),
        _ => loss_grad_fixed::<8, 16, 9>(l, p, seqs, n, with_grad),
    }
}

/// Result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NonAugOutcome {
    /// The config.
    pub config: NonAugConfig,
    /// Final parameters.
    pub params: Vec<f64>,
    /// Test MSE at init and after every epoch.
    pub curve: Vec<CurvePoint>,
    /// Final test MSE.
    pub test_mse: f64,
    /// The final positional softmax Π_h at the last query (H rows of n weights).
    pub pe_last_row: Vec<Vec<f64>>,
    /// Head-averaged fraction of the last query's PE mass on offsets 0–1 (keys n−1, n−2).
    pub pe_mass_offsets01: f64,
    /// Wall time, seconds.
    pub wall_s: f64,
}

/// Trains the non-augmented model.
pub fn train_nonaug(cfg: &NonAugConfig) -> NonAugOutcome {
    let t0 = std::time::Instant::now();
    let l = NaLayout { d: cfg.d, h: cfg.heads };
    let mut p = init_params(l, attnlab_core::rng::child_seed(cfg.seed, 0));
    let curve = fit(
        &mut p,
        Schedule { d: cfg.d, n: cfg.n, train_seqs: cfg.train_seqs, test_seqs: cfg.test_seqs, batch: cfg.batch, epochs: cfg.epochs, lr: cfg.lr, seed: cfg.seed },
        |p, seqs, with_grad| loss_grad(l, p, seqs, cfg.n, with_grad),
    );
    let test_mse = curve.last().map_or(f64::NAN, |c| c.test);
    let pe_last_row = pe_last_rows(l, &p, cfg.n);
    let pe_mass_offsets01 = pe_last_row.iter().map(|r| r[cfg.n - 1] + r[cfg.n - 2]).sum::<f64>() / cfg.heads as f64;
    NonAugOutcome { config: *cfg, params: p, curve, test_mse, pe_last_row, pe_mass_offsets01, wall_s: t0.elapsed().as_secs_f64() }
}

/// Π_h[n−1, ·] for every head.
pub fn pe_last_rows(l: NaLayout, p: &[f64], n: usize) -> Vec<Vec<f64>> {
    let pi = match l.d {
        1 => shared::<1, 2, 2>(l, p, n).pi,
        2 => shared::<2, 4, 3>(l, p, n).pi,
        3 => shared::<3, 6, 4>(l, p, n).pi,
        4 => shared::<4, 8, 5>(l, p, n).pi,
        5 => shared::<5, 10, 6>(l, p, n).pi,
        6 => shared::<6, 12, 7>(l, p, n).pi,
        7 => shared::<7, 14, 8>(l, p, n).pi,
        _ => shared::<8, 16, 9>(l, p, n).pi,
    };
    (0..l.h).map(|h| pi[(h * n + n - 1) * n..(h * n + n) * n].to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::icar::haar_dataset;

    #[test]
    fn gradient_matches_finite_differences_and_is_finite() {
        let l = NaLayout { d: 2, h: 3 };
        let mut p = init_params(l, 3);
        // scale the PE down so the softmax is not saturated (a sharper finite-difference check)
        let o = l.offsets();
        p[o[6]..o[7]].iter_mut().for_each(|v| *v *= 0.5);
        let data = haar_dataset(2, 5, 3, 4);
        let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
        let (_, g) = loss_grad(l, &p, &refs, 5, true);
        let eps = 1e-6;
        for i in 0..l.len() {
            // PE rows ≥ n get no gradient (unused positions)
            let mut a = p.clone();
            let mut b = p.clone();
            a[i] += eps;
            b[i] -= eps;
            let fd = (loss_grad(l, &a, &refs, 5, false).0 - loss_grad(l, &b, &refs, 5, false).0) / (2.0 * eps);
            assert!(g[i].is_finite());
            assert!((fd - g[i]).abs() < 1e-6 * (1.0 + g[i].abs()), "param {i}: fd {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        // Direct evaluation of spec §2b with full Q, K, V on x = (s, s), per head and pair.
        let (d, h, n) = (2usize, 2usize, 4usize);
        let l = NaLayout { d, h };
        let p = init_params(l, 7);
        let o = l.offsets();
        let e = 2 * d;
        let data = haar_dataset(d, n, 1, 8);
        let s = &data[0];
        let lin = |w: usize, b: usize, hh: usize, x: &[f64]| -> Vec<f64> {
            (0..e).map(|i| p[b + hh * e + i] + (0..e).map(|j| p[w + (hh * e + i) * e + j] * x[j]).sum::<f64>()).collect()
        };
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let rs = 1.0 / (e as f64).sqrt();
        let mut loss = 0.0;
        for q in 0..n {
            let xq: Vec<f64> = [&s[q * d..q * d + d], &s[q * d..q * d + d]].concat();
            let pq = &p[o[6] + q * e..o[6] + (q + 1) * e];
            let mut att = vec![0.0; e];
            for hh in 0..h {
                let logits: Vec<f64> = (0..=q).map(|k| dot(&lin(o[0], o[3], hh, pq), &lin(o[1], o[4], hh, &p[o[6] + k * e..o[6] + (k + 1) * e])) * rs).collect();
                let mx = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = logits.iter().map(|v| (v - mx).exp()).sum();
                for k in 0..=q {
                    let xk: Vec<f64> = [&s[k * d..k * d + d], &s[k * d..k * d + d]].concat();
                    let a = dot(&lin(o[0], o[3], hh, &xq), &lin(o[1], o[4], hh, &xk)) * rs * (logits[k] - mx).exp() / z;
                    let v = lin(o[2], o[5], hh, &xk);
                    att.iter_mut().zip(&v).for_each(|(t, vv)| *t += a * vv);
                }
            }
            let f: Vec<f64> = (0..e).map(|i| p[o[8] + i] + (0..e).map(|j| p[o[7] + i * e + j] * att[j]).sum::<f64>()).collect();
            let mu = f.iter().sum::<f64>() / e as f64;
            let var = f.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / e as f64;
            let ln: Vec<f64> = (0..e).map(|i| p[o[9] + i] * (f[i] - mu) / (var + 1e-5).sqrt() + p[o[10] + i]).collect();
            for i in 0..d {
                let y = p[o[12] + i] + (0..e).map(|j| p[o[11] + i * e + j] * ln[j]).sum::<f64>();
                loss += (y - s[(q + 1) * d + i]).powi(2);
            }
        }
        let fast = loss_grad(l, &p, &[s.as_slice()], n, false).0 * (n * d) as f64;
        assert!((fast - loss).abs() < 1e-10 * loss.max(1.0), "{fast} vs {loss}");
    }
}
