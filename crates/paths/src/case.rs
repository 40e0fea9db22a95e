//! The checked JSON input of `attnlab paths theory` and its solution (issue item 6).
//!
//! CASE.json holds `x` (P × N0 × T, x[p][i][t] = feature i of token t), `y` (P labels), `heads`
//! (per layer, a list of N0 × N0 matrices W with logits[s, t] = x_sᵀ W x_t, softmax over the key s),
//! `readout` (`"last_token"` or `"average_pooling"`), `tau` (≥ 0) and `width` (N > 0; every width
//! equal, every prior variance 1). Every rejection names the field.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use serde_json::Value;

use crate::PathsError;
use crate::action::{Action, Architecture};
use crate::attention::{PathInputs, Readout};
use crate::kernel::PreKernels;
use crate::predict::Predictor;
use crate::solver::{SolverOptions, solve};
use attnlab_core::config::rules;

/// A checked theory case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Inputs, each N0 × T.
    pub x: Vec<DMatrix<f64>>,
    /// Labels.
    pub y: DVector<f64>,
    /// W^{ℓ,h}: `heads[ℓ][h]`, each N0 × N0.
    pub heads: Vec<Vec<DMatrix<f64>>>,
    /// Readout.
    pub readout: Readout,
    /// τ ≥ 0.
    pub tau: f64,
    /// N > 0.
    pub width: f64,
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, PathsError> {
    v.get(name).ok_or_else(|| PathsError::shape(name, "missing"))
}

fn number(v: &Value, name: &str, what: &str) -> Result<f64, PathsError> {
    let x = v.as_f64().ok_or_else(|| PathsError::shape(name, format!("{what} is not a number")))?;
    if x.is_finite() { Ok(x) } else { Err(PathsError::shape(name, format!("{what} is not finite"))) }
}

fn array<'a>(v: &'a Value, name: &str, what: &str) -> Result<&'a Vec<Value>, PathsError> {
    v.as_array().ok_or_else(|| PathsError::shape(name, format!("{what} is not an array")))
}

fn matrix(
    v: &Value,
    name: &str,
    what: &str,
    rows: Option<usize>,
    cols: Option<usize>,
) -> Result<DMatrix<f64>, PathsError> {
    let r = array(v, name, what)?;
    if r.is_empty() {
        return Err(PathsError::shape(name, format!("{what} is empty")));
    }
    let nr = rows.unwrap_or(r.len());
    if r.len() != nr {
        return Err(PathsError::shape(name, format!("{what} has {} rows, expected {nr}", r.len())));
    }
    let first = array(&r[0], name, what)?.len();
    let nc = cols.unwrap_or(first);
    if nc == 0 {
        return Err(PathsError::shape(name, format!("{what} has empty rows")));
    }
    let mut m = DMatrix::zeros(nr, nc);
    for (i, row) in r.iter().enumerate() {
        let row = array(row, name, what)?;
        if row.len() != nc {
            return Err(PathsError::shape(name, format!("{what} row {i} has {} entries, expected {nc}", row.len())));
        }
        for (j, e) in row.iter().enumerate() {
            m[(i, j)] = number(e, name, &format!("{what}[{i}][{j}]"))?;
        }
    }
    Ok(m)
}

impl Case {
    /// Parses and checks a CASE.json document.
    pub fn from_json(text: &str) -> Result<Self, PathsError> {
        let v: Value = serde_json::from_str(text)?;
        let xs = array(field(&v, "x")?, "x", "x")?;
        if xs.is_empty() {
            return Err(PathsError::shape("x", "no inputs"));
        }
        let x0 = matrix(&xs[0], "x", "x[0]", None, None)?;
        let (n0, t) = (x0.nrows(), x0.ncols());
        let x = xs
            .iter()
            .enumerate()
            .map(|(p, xp)| matrix(xp, "x", &format!("x[{p}]"), Some(n0), Some(t)))
            .collect::<Result<Vec<_>, _>>()?;
        let ys = array(field(&v, "y")?, "y", "y")?;
        if ys.len() != x.len() {
            return Err(PathsError::shape("y", format!("{} labels for {} inputs", ys.len(), x.len())));
        }
        let y =
            ys.iter().enumerate().map(|(i, e)| number(e, "y", &format!("y[{i}]"))).collect::<Result<Vec<_>, _>>()?;
        let hs = array(field(&v, "heads")?, "heads", "heads")?;
        if hs.is_empty() {
            return Err(PathsError::shape("heads", "no layers"));
        }
        let mut heads = Vec::new();
        for (l, layer) in hs.iter().enumerate() {
            let layer = array(layer, "heads", &format!("heads[{l}]"))?;
            if layer.is_empty() {
                return Err(PathsError::shape("heads", format!("layer {l} has no heads")));
            }
            heads.push(
                layer
                    .iter()
                    .enumerate()
                    .map(|(h, w)| matrix(w, "heads", &format!("heads[{l}][{h}]"), Some(n0), Some(n0)))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        let readout = match field(&v, "readout")?.as_str() {
            Some("last_token") => Readout::LastToken,
            Some("average_pooling") => Readout::AveragePooling,
            _ => return Err(PathsError::shape("readout", "must be \"last_token\" or \"average_pooling\"")),
        };
        let tau = rules::non_negative("tau", field(&v, "tau")?.as_f64().unwrap_or(f64::NAN))?;
        let width = rules::positive("width", field(&v, "width")?.as_f64().unwrap_or(f64::NAN))?;
        Ok(Self { x, y: DVector::from_vec(y), heads, readout, tau, width })
    }

    /// Solves the theory for this case.
    pub fn solve(&self, opts: &SolverOptions) -> Result<CaseSolution, PathsError> {
        let hpl: Vec<usize> = self.heads.iter().map(Vec::len).collect();
        let arch = Architecture::equal_width(&hpl, self.width)?;
        let inputs = PathInputs::new(&self.x, &self.heads, self.readout, arch.sigma0());
        let kernels = PreKernels::new(&inputs);
        let action = Action::new(arch, kernels, self.y.clone(), self.tau)?;
        let sol = solve(&action, None, opts)?;
        let pred = Predictor::new(&inputs, &action.kernels, &sol.params.u[0], &self.y, self.tau)?;
        let mat = |m: &DMatrix<f64>| (0..m.nrows()).map(|i| m.row(i).iter().copied().collect()).collect();
        Ok(CaseSolution {
            u: sol.params.u.iter().map(mat).collect(),
            u_a: sol.params.u_a,
            action_per_width: sol.action_per_width,
            train_mean: pred.train_mean(),
            iterations: sol.iterations,
            max_grad: sol.max_grad,
            converged: sol.converged,
            n_paths: action.arch.n_paths(),
        })
    }
}

/// The output of `attnlab paths theory`.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSolution {
    /// [U_1, …, U_L]; U_1 is the Π × Π matrix that enters K.
    #[serde(rename = "U")]
    pub u: Vec<Vec<Vec<f64>>>,
    /// u_a.
    pub u_a: f64,
    /// S/N at the solution.
    pub action_per_width: f64,
    /// Mean predictor on the training inputs.
    pub train_mean: Vec<f64>,
    /// Solver iterations.
    pub iterations: usize,
    /// Final max |∂(S/N)/∂U|.
    pub max_grad: f64,
    /// Whether max_grad reached the solver's target.
    pub converged: bool,
    /// Π.
    pub n_paths: usize,
}
