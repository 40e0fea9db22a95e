//! Kernel–label alignment, head scores and theory-side pruning (spec §4).

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use crate::attention::head_of_path;

/// Overlaps |φ_kᵀ y|/√P of the top `k` eigenvectors of the train kernel (descending eigenvalue
/// order) with the labels (spec §4 "Kernel-task alignment"; a cosine similarity since ‖y‖ = √P for
/// ±1 labels).
pub fn pc_label_overlaps(k: &DMatrix<f64>, y: &DVector<f64>, top: usize) -> Vec<f64> {
    let eig = SymmetricEigen::new(k.clone());
    let mut order: Vec<usize> = (0..k.nrows()).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let norm = (y.len() as f64).sqrt();
    order.iter().take(top).map(|&i| eig.eigenvectors.column(i).dot(y).abs() / norm).collect()
}

/// The scalar alignment yᵀKy/(‖K‖_F ‖y‖²) (not the paper's; spec §4 suggests it for a checker).
pub fn scalar_alignment(k: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    (y.transpose() * k * y)[(0, 0)] / (k.norm() * y.norm_squared())
}

/// A head (layer ℓ, 0-based) with its normalised score.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeadScore {
    /// Layer (0-based).
    pub layer: usize,
    /// Head within the layer (0-based).
    pub head: usize,
    /// Σ|U_{ππ'}| over pairs with π_ℓ = h or π'_ℓ = h, divided by the maximum over heads.
    pub score: f64,
}

/// Head scores of spec §4 (`compute_heads_score`), sorted ascending.
pub fn head_scores(u: &DMatrix<f64>, heads_per_layer: &[usize]) -> Vec<HeadScore> {
    let n = u.nrows();
    let mut out = Vec::new();
    for (layer, &hl) in heads_per_layer.iter().enumerate() {
        for head in 0..hl {
            let mut s = 0.0;
            for a in 0..n {
                for b in 0..n {
                    if head_of_path(heads_per_layer, a, layer) == head
                        || head_of_path(heads_per_layer, b, layer) == head
                    {
                        s += u[(a, b)].abs();
                    }
                }
            }
            out.push(HeadScore { layer, head, score: s });
        }
    }
    let max = out.iter().map(|h| h.score).fold(0.0, f64::max);
    for h in &mut out {
        h.score /= max;
    }
    out.sort_by(|a, b| a.score.total_cmp(&b.score));
    out
}

/// U with every row and column of a path through any of the heads `pruned` ((layer, head),
/// 0-based) set to zero (spec §4 "Theory-side pruning").
pub fn prune(u: &DMatrix<f64>, heads_per_layer: &[usize], pruned: &[(usize, usize)]) -> DMatrix<f64> {
    let mut out = u.clone();
    for a in 0..u.nrows() {
        if pruned.iter().any(|&(l, h)| head_of_path(heads_per_layer, a, l) == h) {
            out.row_mut(a).fill(0.0);
            out.column_mut(a).fill(0.0);
        }
    }
    out
}
