//! Figure `icar.augmented.eta` (spec icar §3a, §5 table; no reference figure): the optimal step
//! η*(T, d) = d/(T+d−2) and loss* = (d−1)/(T+d−2) against trained theoretical augmented heads
//! (complex single linear-attention head, commuting unitary W, random initial phases) over a grid
//! of T and d; the trained step size is the gauge-invariant η_eff = d·Re E⟨ŝ_{T+1}, s_{T+1}⟩/(T−1).

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_icar::gd::Augmented;
use attnlab_icar::head::{HeadEval, HeadTrain, train_head};
use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::code_version;
use super::diag::icar_err;
use crate::plot::{dashed, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Relative tolerance on η_eff and loss (finite Adam runs).
pub const REL_TOL: f64 = 0.03;

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// One training per (d, T).
    pub runs: Vec<HeadTrain>,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// Evaluation per run.
    pub evals: Vec<HeadEval>,
}

const DS: [usize; 5] = [2, 3, 5, 8, 10];
const TS: [usize; 4] = [10, 20, 50, 100];

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let fast = ctx.fast();
    let ds: &[usize] = if fast { &[2, 5] } else { &DS };
    let ts: &[usize] = if fast { &[10, 20] } else { &TS };
    let mut runs = Vec::new();
    for &d in ds {
        for &t in ts {
            let s = Augmented::new(d, t, 1.0).map_err(icar_err)?;
            let mut h = HeadTrain::defaults(s, 1000 + (d * 1000 + t) as u64);
            if fast {
                h.steps = 1500;
                h.batch = 128;
                h.eval_samples = 5000;
            }
            runs.push(h);
        }
    }
    let cfg = Config { runs };
    let (rec, status) = ctx.lab.cache.get_or_compute(spec.id, &cfg, 1000, &code_version(), || {
        let evals = cfg.runs.par_iter().map(|r| train_head(r).eval).collect();
        Ok::<_, FigureError>(Data { evals })
    })?;
    let data = &rec.result;
    let mut js = Vec::new();
    for (r, e) in cfg.runs.iter().zip(&data.evals) {
        let s = r.setting;
        let tag = format!("{}.d{}-T{}", spec.id, s.d(), s.t());
        js.push(Judgement::new(
            Claim::new(
                &format!("{tag}.eta"),
                "icar",
                format!("d = {}, T = {}: the trained head's step size η_eff = η* = d/(T+d−2) = {:.4} ({} Adam steps, batch {}, {} fresh test sequences)", s.d(), s.t(), s.eta_star(), r.steps, r.batch, e.loss.n),
                "§3a, §5 table",
            ),
            s.eta_star(),
            Observation::mean(e.effective_eta),
            Tolerance::Relative(REL_TOL),
            spec.id,
            "",
        ));
        js.push(Judgement::new(
            Claim::new(&format!("{tag}.loss"), "icar", format!("d = {}, T = {}: trained loss E‖ŝ − s_{{T+1}}‖² = loss* = (d−1)/(T+d−2) = {:.4} (estimated on fresh sequences with Γ*s_T as control variate; plain estimate {:.4} ± {:.4})", s.d(), s.t(), s.loss_star(), e.loss.mean, 1.96 * e.loss.se), "§3a, §5 table"),
            s.loss_star(),
            Observation::mean(e.loss_paired),
            Tolerance::Absolute((REL_TOL * s.loss_star()).max(1e-3)),
            spec.id,
            "",
        ));
    }
    render(&EtaFig { cfg: &cfg, data }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: "Left: the optimal one-step-GD step size η*(T, d) = d/(T+d−2) (dashed, one colour per d) against the \
                  trained theoretical augmented head's gauge-invariant step size η_eff = d·Re E⟨ŝ_{T+1}, s_{T+1}⟩/(T−1) \
                  (markers with 95% intervals). Right: loss* = (d−1)/(T+d−2) (dashed) against the trained head's loss on \
                  fresh sequences. Complex single linear-attention head on commuting unitary W, ‖s_1‖ = 1, |s_1,k|² = 1/d, \
                  uniformly random phases; trained from a small random init with Adam on fresh minibatches."
            .into(),
    })
}

struct EtaFig<'a> {
    cfg: &'a Config,
    data: &'a Data,
}

const COLORS: [RGBColor; 5] = [okabe_ito::BLUE, okabe_ito::ORANGE, okabe_ito::GREEN, okabe_ito::VERMILLION, okabe_ito::PURPLE];

impl Figure for EtaFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1300, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let areas = root.split_evenly((1, 2));
        let mut ds: Vec<usize> = self.cfg.runs.iter().map(|r| r.setting.d()).collect();
        ds.dedup();
        let tmin = self.cfg.runs.iter().map(|r| r.setting.t()).min().unwrap_or(2) as f64;
        let tmax = self.cfg.runs.iter().map(|r| r.setting.t()).max().unwrap_or(100) as f64;
        for (k, area) in areas.iter().enumerate() {
            let (title, ylab) = if k == 0 { ("step size: η* (theory) vs trained η_eff", "η") } else { ("loss: loss* (theory) vs trained", "E‖ŝ − s‖²") };
            let mut ch = panel(area, title, (tmin * 0.8..tmax * 1.25).log_scale(), (0.008..0.8).log_scale(), "context length T", ylab)?;
            for (ci, &d) in ds.iter().enumerate() {
                let col = COLORS[ci % COLORS.len()];
                let theory: Vec<(f64, f64)> = (0..=60)
                    .map(|i| tmin * 0.8 * (tmax * 1.25 / (tmin * 0.8)).powf(i as f64 / 60.0))
                    .map(|t| (t, if k == 0 { d as f64 / (t + d as f64 - 2.0) } else { (d as f64 - 1.0) / (t + d as f64 - 2.0) }))
                    .collect();
                ch.draw_series(dashed(theory, col, 2))?.label(format!("d = {d}")).legend(seg(col, 2));
                for (r, e) in self.cfg.runs.iter().zip(&self.data.evals).filter(|(r, _)| r.setting.d() == d) {
                    let m = if k == 0 { e.effective_eta } else { e.loss_paired };
                    let t = r.setting.t() as f64;
                    let u = 1.96 * m.se;
                    ch.draw_series(std::iter::once(Circle::new((t, m.mean.max(1e-3)), 5, col.filled())))?;
                    ch.draw_series(std::iter::once(PathElement::new(vec![(t, (m.mean - u).max(1e-3)), (t, m.mean + u)], col.stroke_width(2))))?;
                }
            }
            legend(&mut ch, SeriesLabelPosition::LowerLeft)?;
        }
        Ok(())
    }
}
